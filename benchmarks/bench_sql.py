"""Rows per second into PostgreSQL: the sql callback's deliver() next to a bare executemany of the same rows.

Run: .venv/bin/python benchmarks/bench_sql.py [--url URL] [--rows 5000] [--repeats 3]
For batch sizes 1, 100 and 1,000, the same prepared flags are written (a) by ``SQLCallback.deliver``
(one transaction per batch, idempotent insert, JSONB, files by reference) and (b) by psycopg's
``executemany`` of a plain INSERT of the same column values into a same-shaped table, one transaction
per batch. Each run uses a fresh schema, dropped afterwards. Prints the median rows/s of each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from flagpipe import FieldSpec, FieldValue, FlagEvent, FlagSchema
from flagpipe.plugins.sql import SQLCallback, SQLSettings

DEFAULT_URL = os.environ.get("FLAGPIPE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = FlagSchema.of([FieldSpec("a"), FieldSpec("b", kind="number"), FieldSpec("answer", role="output")])


def events(count: int) -> list[FlagEvent]:
    return [
        FlagEvent(
            option="wrong",
            username="bench",
            app="calculator",
            metadata={"model": "v2"},
            fields=(
                FieldValue(name="a", value=f"{n} + {n}"),
                FieldValue(name="b", kind="number", value=n),
                FieldValue(name="answer", role="output", value=str(2 * n)),
            ),
        )
        for n in range(count)
    ]


def batches(items: list[FlagEvent], size: int) -> list[list[FlagEvent]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def time_callback(url: str, flags: list[FlagEvent], size: int, tmp: str) -> float:
    schema = f"fp_bench_{uuid.uuid4().hex[:8]}"
    callback = SQLCallback(SQLSettings.model_validate({"url": url, "schema": schema, "batch_size": 10_000}))
    callback.setup(SCHEMA, __import__("pathlib").Path(tmp))
    try:
        callback.healthcheck()  # tables created outside the timing
        start = time.perf_counter()
        for batch in batches(flags, size):
            callback.deliver(batch)
        return len(flags) / (time.perf_counter() - start)
    finally:
        callback.close()
        drop(url, schema)


def time_executemany(url: str, flags: list[FlagEvent], size: int) -> float:
    schema = f"fp_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        conn.exec_driver_sql(
            f"CREATE TABLE {schema}.flags (id varchar(36) PRIMARY KEY, created_at timestamptz NOT NULL,"
            " app varchar(255), mode varchar(16) NOT NULL, option varchar(255), username varchar(255), comment text,"
            " session_id varchar(255), schema_version integer NOT NULL, fields jsonb NOT NULL, metadata jsonb NOT NULL)"
        )
    insert = f"INSERT INTO {schema}.flags VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    rows = [
        (
            e.id,
            e.created_at,
            e.app,
            e.mode,
            e.option,
            e.username,
            e.comment,
            e.session_id,
            e.schema_version,
            json.dumps([f.model_dump(mode="json") for f in e.fields]),
            json.dumps(e.metadata),
        )
        for e in flags
    ]
    try:
        raw = engine.raw_connection()
        try:
            start = time.perf_counter()
            for i in range(0, len(rows), size):
                with raw.cursor() as cursor:
                    cursor.executemany(insert, rows[i : i + size])
                raw.commit()
            return len(rows) / (time.perf_counter() - start)
        finally:
            raw.close()
    finally:
        engine.dispose()
        drop(url, schema)


def drop(url: str, schema: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=5000, help="rows per measurement (batch size 1 uses a fifth)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table = Table("batch size", "rows", "sql callback rows/s", "bare executemany rows/s", "callback / bare")
    for size in (1, 100, 1000):
        count = max(size, args.rows // 5 if size == 1 else args.rows)
        ours, bare = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                ours.append(time_callback(args.url, events(count), size, tmp))
            bare.append(time_executemany(args.url, events(count), size))
        a, b = statistics.median(ours), statistics.median(bare)
        table.add_row(str(size), f"{count:,}", f"{a:,.0f}", f"{b:,.0f}", f"{a / b:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
