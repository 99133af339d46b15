"""Flagging throughput and latency, side by side with the floors (and Gradio's CSVLogger when installed).

Run: .venv/bin/python benchmarks/bench_flagging.py [--flags N] [--repeats R]
Prints tables; every figure is the median of the repeats with its spread (min-max).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rich.console import Console
from rich.table import Table

import flagpipe

ROW = {"num1": 5, "operation": "add", "num2": 7, "output": -12}


def median_spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def bare_csv(directory: Path, flags: int) -> float:
    path = directory / "bare.csv"
    start = time.perf_counter()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for n in range(flags):
            writer.writerow([n, "add", 7, -12, "wrong sign", "", time.time()])
            handle.flush()
    return flags / (time.perf_counter() - start)


def bare_sqlite(directory: Path, flags: int) -> float:
    db = sqlite3.connect(directory / "bare.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body TEXT)")
    body = json.dumps(ROW)
    start = time.perf_counter()
    for n in range(flags):
        db.execute("INSERT INTO t (id, body) VALUES (?, ?)", (str(n), body))
    elapsed = time.perf_counter() - start
    db.close()
    return flags / elapsed


def flagpipe_rate(directory: Path, flags: int, mode: str) -> float:
    config = {"dir": str(directory), "delivery": {"mode": mode, "grace": 600}}
    with flagpipe.Flagger(config) as flagger:
        start = time.perf_counter()
        for n in range(flags):
            flagger.flag({**ROW, "num1": n}, option="wrong sign")
        elapsed = time.perf_counter() - start
    return flags / elapsed


def gradio_rate(directory: Path, flags: int, prefill: int) -> float | None:
    try:
        import gradio as gr
    except ImportError:
        return None
    logger = gr.CSVLogger()
    components = [
        gr.Number(label="num1"),
        gr.Textbox(label="operation"),
        gr.Number(label="num2"),
        gr.Number(label="output"),
    ]
    logger.setup(components, str(directory))
    for n in range(prefill):
        logger.flag([n, "add", 7, -12])
    start = time.perf_counter()
    for n in range(flags):
        logger.flag([n, "add", 7, -12])
    return flags / (time.perf_counter() - start)


def prefill_flagpipe(directory: Path, rows: int) -> None:
    config = {"dir": str(directory), "delivery": {"mode": "inline"}}
    with flagpipe.Flagger(config) as flagger:
        for n in range(rows):
            flagger.flag({**ROW, "num1": n}, option="wrong sign")


@contextmanager
def slow_sink(seconds: float) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(seconds)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def latency_with_slow_sink(directory: Path, flags: int) -> tuple[float, float, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "delivery"))
    from http_sink import PostPlugin  # the test suite's small HTTP callback

    plugins = flagpipe.create_plugin_manager(flagpipe.PluginPolicy(autoload=False))
    plugins.register(PostPlugin(), "post")
    with slow_sink(1.0) as url:
        config = {
            "dir": str(directory),
            "callbacks": [{"type": "csv"}, {"type": "test_post", "url": url}],
            "delivery": {"grace": 0},
        }
        with flagpipe.Flagger(config, plugins=plugins) as flagger:
            times = []
            for n in range(flags):
                start = time.perf_counter()
                flagger.flag({**ROW, "num1": n})
                times.append((time.perf_counter() - start) * 1000)
                time.sleep(0.001)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)], times[-1]


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import flagpipe; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) * 1000 for _ in range(5)]
    return statistics.median(runs)


def repeat(function: Callable[[Path], float | None], repeats: int) -> list[float]:
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            value = function(Path(tmp))
            if value is None:
                return []
            results.append(value)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flags", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prefill", type=int, nargs="*", default=[0, 10_000, 50_000])
    args = parser.parse_args()
    console = Console()
    console.print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, flagpipe {flagpipe.__version__}")

    floors = {
        "bare csv.writer append + flush": repeat(lambda d: bare_csv(d, args.flags), args.repeats),
        "bare SQLite insert-and-commit (WAL)": repeat(lambda d: bare_sqlite(d, args.flags), args.repeats),
    }
    sqlite_floor = statistics.median(floors["bare SQLite insert-and-commit (WAL)"])
    table = Table("what", "rows already written", "flags/s median (min-max)", "vs SQLite floor", "vs Gradio CSVLogger")
    for name, values in floors.items():
        table.add_row(name, "0", median_spread(values), f"{statistics.median(values) / sqlite_floor:.2f}", "")
    for prefill in args.prefill:
        gradio = repeat(lambda d, p=prefill: gradio_rate(d, min(args.flags, 200), p), 1)

        def run(mode: str, p: int = prefill) -> list[float]:
            def once(directory: Path) -> float:
                prefill_flagpipe(directory, p)
                return flagpipe_rate(directory, args.flags, mode)

            return repeat(once, args.repeats)

        for mode in ("background", "inline"):
            values = run(mode)
            ratio = (
                f"{statistics.median(values) / statistics.median(gradio):,.0f}x" if gradio else "gradio not installed"
            )
            table.add_row(
                f"flagpipe, csv, {mode}",
                f"{prefill:,}",
                median_spread(values),
                f"{statistics.median(values) / sqlite_floor:.2f}",
                ratio,
            )
        if gradio:
            table.add_row(
                "gradio CSVLogger",
                f"{prefill:,}",
                median_spread(gradio),
                f"{statistics.median(gradio) / sqlite_floor:.3f}",
                "1x",
            )
    console.print(table)

    with tempfile.TemporaryDirectory() as tmp:
        p50, p99, worst = latency_with_slow_sink(Path(tmp), 1000)
    latency = Table("flag() latency, csv + a 1 s/request HTTP sink, background", "p50 ms", "p99 ms", "max ms")
    latency.add_row("1,000 flags", f"{p50:.3f}", f"{p99:.3f}", f"{worst:.3f}")
    console.print(latency)
    console.print(f"import flagpipe: {import_time():.1f} ms (median of 5 fresh interpreters)")


if __name__ == "__main__":
    main()
