"""Flags per second and objects per 1,000 flags of the parquet callback against moto's S3, by commit_every.

Run: .venv/bin/python benchmarks/bench_parquet.py [--flags 2000] [--rate 400] [--every 0.2 1 5]

A moto S3 server is started on 127.0.0.1 (a free port). For each ``commit_every`` a Flagger (background
delivery, ``partition_by: [date]``) flags ``--flags`` flags at ``--rate`` flags/s into a fresh bucket, then
flushes. Printed side by side: the flags/s from the first flag until everything is stored, the objects in
the bucket per 1,000 flags (one warm-up flag, which connects, is left out), the flags per shard, and
the time of the flush at the end. A last row writes the same flags with ``ParquetCallback.deliver``
directly, in batches of 1,000, for the sink's own throughput.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from rich.console import Console
from rich.table import Table

from flagpipe import FieldValue, FlagEvent, Flagger
from flagpipe.plugins.parquet import ParquetCallback, ParquetSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def options(endpoint: str) -> dict[str, Any]:
    return {"key": "bench", "secret": "bench", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


def new_bucket(endpoint: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    client.create_bucket(Bucket=name)
    return name


def objects(endpoint: str, bucket: str) -> list[str]:
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def through_flagger(endpoint: str, every: float, flags: int, rate: float) -> dict[str, float]:
    bucket = new_bucket(endpoint)
    settings = {"url": f"s3://{bucket}/flags/", "storage_options": options(endpoint), "commit_every": every}
    with tempfile.TemporaryDirectory() as directory:
        config = {"dir": directory, "app": "bench", "callbacks": [{"type": "parquet", **settings}]}
        with Flagger(config) as flagger:
            flagger.flag({"a": "warm-up", "answer": "0"}, option="wrong")  # the first delivery connects
            deadline = time.monotonic() + every + 60  # (not flush(): it makes the lane skip batching from then on)
            while len(objects(endpoint, bucket)) < 2 and time.monotonic() < deadline:  # the manifest and a shard
                time.sleep(0.05)
            warm = len(objects(endpoint, bucket))
            start = time.perf_counter()
            for n in range(flags):
                due = start + n / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                flagger.flag({"a": f"{n} + {n}", "answer": str(2 * n)}, option="wrong")
            flushing = time.perf_counter()
            assert flagger.flush(300), "the flush timed out"
            done = time.perf_counter()
    made = len(objects(endpoint, bucket)) - warm  # one shard per batch here (one field set, one day)
    return {
        "flags_per_s": flags / (done - start),
        "objects_per_1000": 1000 * made / flags,
        "flags_per_shard": flags / max(made, 1),
        "flush_s": done - flushing,
    }


def direct(endpoint: str, flags: int) -> dict[str, float]:
    bucket = new_bucket(endpoint)
    callback = ParquetCallback(ParquetSettings(url=f"s3://{bucket}/flags/", storage_options=options(endpoint)))
    events = [
        FlagEvent(option="wrong", app="bench", fields=(FieldValue(name="a", value=f"{n} + {n}"),)) for n in range(flags)
    ]
    with tempfile.TemporaryDirectory() as directory:
        callback.setup(None, Path(directory))  # type: ignore[arg-type]
        callback.deliver(events[:1])  # connect first, as a running app has
        warm = len(objects(endpoint, bucket))
        start = time.perf_counter()
        for i in range(0, flags, 1000):
            callback.deliver(events[i : i + 1000])
        seconds = time.perf_counter() - start
    made = len(objects(endpoint, bucket)) - warm
    return {"flags_per_s": flags / seconds, "objects_per_1000": 1000 * made / flags, "flags_per_shard": flags / made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=400.0, help="flags per second the app makes")
    parser.add_argument("--every", type=float, nargs="+", default=[0.2, 1.0, 5.0], help="commit_every values")
    args = parser.parse_args()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    table = Table(title=f"parquet callback into moto S3: {args.flags:,} flags made at {args.rate:,.0f}/s")
    for column in ("commit_every (s)", "flags/s", "objects per 1,000 flags", "flags per shard", "final flush (s)"):
        table.add_column(column, justify="right")
    try:
        for every in args.every:
            row = through_flagger(endpoint, every, args.flags, args.rate)
            table.add_row(
                f"{every:g}",
                f"{row['flags_per_s']:,.0f}",
                f"{row['objects_per_1000']:,.1f}",
                f"{row['flags_per_shard']:,.1f}",
                f"{row['flush_s']:.2f}",
            )
        row = direct(endpoint, args.flags)
        shard = f"{row['flags_per_shard']:,.1f}"
        table.add_row("deliver() only", f"{row['flags_per_s']:,.0f}", f"{row['objects_per_1000']:,.1f}", shard, "-")
    finally:
        server.stop()
    Console().print(table)


if __name__ == "__main__":
    main()
