"""Load on ``flagpipe serve`` over 127.0.0.1, next to a bare uvicorn endpoint that does nothing (the ceiling).

Run: .venv/bin/python benchmarks/bench_server.py [--requests 3000] [--batches 200] [--concurrency 32] [--workers 1]
The servers run in their own processes; this process sends the load (httpx, asyncio, one connection
pool of ``--concurrency`` connections) and prints requests/s, flags/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from rich.console import Console
from rich.table import Table

KEY = "bench-key-0123456789abcdef"
BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


async def load(url: str, bodies: list[dict], concurrency: int) -> tuple[float, list[float], int]:
    """POST every body with ``concurrency`` requests in flight; return seconds, latencies, non-2xx count."""
    latencies: list[float] = []
    errors = 0
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60, headers={"authorization": f"Bearer {KEY}"}) as client:

        async def worker() -> None:
            nonlocal errors
            for body in queue:
                start = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code >= 300

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies, errors


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="single-flag requests")
    parser.add_argument("--batches", type=int, default=200, help="batch requests (100 flags each)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="collector worker processes")
    args = parser.parse_args()
    flag = {"values": {"prompt": "What is 5 + 7?", "answer": "-12", "score": 0.25}, "option": "wrong sign"}
    table = Table(
        "endpoint",
        "requests",
        "concurrency",
        "req/s",
        "flags/s",
        "p50 ms",
        "p99 ms",
        "errors",
        title=f"flagpipe serve ({args.workers} worker(s)) vs a bare uvicorn endpoint, 127.0.0.1",
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bare.py").write_text(BARE_APP, encoding="utf-8")
        config = {
            "options": ["wrong sign"],
            "dir": "flagged",
            "server": {
                "keys": [{"id": "bench", "key": KEY, "scopes": ["flag", "read"]}],
                "rate_limit": {"per_second": 1_000_000, "burst": 1_000_000},
            },
        }
        (root / "flagging.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        bare_port, serve_port = free_port(), free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--workers",
                str(args.workers),
            ],
            cwd=root,
        )
        serve = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flagpipe",
                "serve",
                "-c",
                str(root / "flagging.yaml"),
                "--port",
                str(serve_port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            env={**os.environ},
        )
        try:
            wait_ready(f"http://127.0.0.1:{bare_port}/", bare)
            wait_ready(f"http://127.0.0.1:{serve_port}/healthz", serve)
            batch = {"flags": [flag] * 100}
            runs = [
                ("bare uvicorn (ceiling)", f"http://127.0.0.1:{bare_port}/", [flag] * args.requests, 1),
                ("POST /v1/flags", f"http://127.0.0.1:{serve_port}/v1/flags", [flag] * args.requests, 1),
                ("bare uvicorn, 100-flag body", f"http://127.0.0.1:{bare_port}/", [batch] * args.batches, 100),
                (
                    "POST /v1/flags/batch (100)",
                    f"http://127.0.0.1:{serve_port}/v1/flags/batch",
                    [batch] * args.batches,
                    100,
                ),
            ]
            for name, url, bodies, per in runs:
                seconds, latencies, errors = asyncio.run(load(url, bodies, args.concurrency))
                table.add_row(
                    name,
                    f"{len(bodies):,}",
                    str(args.concurrency),
                    f"{len(bodies) / seconds:,.0f}",
                    f"{len(bodies) * per / seconds:,.0f}",
                    f"{percentile(latencies, 50):.1f}",
                    f"{percentile(latencies, 99):.1f}",
                    str(errors),
                )
        finally:
            for process in (bare, serve):
                process.terminate()
                process.wait(timeout=60)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
