"""flagpipe's flagging speed, side by side with Gradio's CSV loggers and the bare floors, in one run.

Run: .venv/bin/python benchmarks/bench_flagging.py [--quick]
Sections: CSV flagging against rows already written; the floors (bare csv.writer, bare SQLite); flag()
latency with a 1-second HTTP sink in the chain; flags with a 100 KB PNG; start-up time; Hub commits
for 1,000 flags (benchmarks/bench_hub.py, against the test Hub). Every figure is
the median of the repeats with the spread (min-max). The memory figure under a backlog comes from
benchmarks/bench_backlog.py, which this script runs last unless --skip-backlog is given.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import flagpipe

ROW = {"num1": 5, "operation": "add", "num2": 7, "output": -12}
HERE = Path(__file__).resolve().parent
console = Console(width=160)


def spread(values: list[float], digits: int = 0) -> str:
    fmt = f",.{digits}f"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def repeat(function: Callable[[Path], float], repeats: int) -> list[float]:
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(function(Path(tmp)))
    return results


# -- the floors ----------------------------------------------------------------------------------


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


# -- flagpipe and Gradio on files with rows already written --------------------------------------------


def prefilled_flagpipe(rows: int, cache: dict[int, Path]) -> Path:
    """A flagging dir holding ``rows`` flags (journal and CSV), built once and copied for each repeat."""
    if rows not in cache:
        directory = Path(tempfile.mkdtemp(prefix=f"flagpipe-{rows}-"))
        with flagpipe.Flagger({"dir": str(directory), "delivery": {"mode": "inline"}}) as flagger:
            for n in range(rows):
                flagger.flag({**ROW, "num1": n}, option="wrong sign")
        cache[rows] = directory
    return cache[rows]


def flagpipe_rate(source: Path, target: Path, flags: int, mode: str, extra: Callable[[int], dict[str, Any]]) -> float:
    shutil.copytree(source, target, dirs_exist_ok=True)
    config = {"dir": str(target), "delivery": {"mode": mode, "grace": 600}}
    with flagpipe.Flagger(config) as flagger:
        start = time.perf_counter()
        for n in range(flags):
            flagger.flag({**ROW, "num1": n, **extra(n)}, option="wrong sign")
        elapsed = time.perf_counter() - start
    return flags / elapsed


def gradio_components(with_image: bool = False) -> list[Any]:
    import gradio as gr

    components = [
        gr.Number(label="num1"),
        gr.Textbox(label="operation"),
        gr.Number(label="num2"),
        gr.Number(label="output"),
    ]
    if with_image:
        components.append(gr.Image(label="image", type="filepath"))
    return components


def gradio_rate(directory: Path, logger_name: str, rows: int, flags: int, image: Path | None = None) -> float:
    """Flags/s of Gradio's logger on a file that already holds ``rows`` rows (written directly)."""
    import gradio as gr

    logger = getattr(gr.flagging, logger_name)()
    logger.setup(gradio_components(with_image=image is not None), str(directory))
    payload = {"path": str(image), "meta": {"_type": "gradio.FileData"}} if image else None
    logger.flag([0, "add", 7, -12, *([payload] if image else [])], flag_option="wrong sign")  # creates the file
    log = next(p for p in directory.glob("*.csv"))
    with log.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        width = len(next(csv.reader(log.open(encoding="utf-8"))))
        for n in range(rows):
            writer.writerow([n, "add", 7, "'-12", *([""] * (width - 4))][:width])
    start = time.perf_counter()
    for n in range(flags):
        logger.flag([n, "add", 7, -12, *([payload] if image else [])], flag_option="wrong sign")
    return flags / (time.perf_counter() - start)


def csv_section(args: argparse.Namespace) -> None:
    floors = {
        "bare csv.writer append + flush": repeat(lambda d: bare_csv(d, args.flags), args.repeats),
        "bare SQLite insert-and-commit (WAL)": repeat(lambda d: bare_sqlite(d, args.flags), args.repeats),
    }
    csv_floor = statistics.median(floors["bare csv.writer append + flush"])
    sqlite_floor = statistics.median(floors["bare SQLite insert-and-commit (WAL)"])
    table = Table(
        "what",
        "rows already written",
        "flags/s median (min-max)",
        "x Gradio CSVLogger",
        "of SQLite floor",
        "of csv floor",
        title="CSV flagging: calculator fields",
    )
    for name, values in floors.items():
        median = statistics.median(values)
        table.add_row(name, "0", spread(values), "", f"{median / sqlite_floor:.2f}", f"{median / csv_floor:.2f}")
    cache: dict[int, Path] = {}
    for rows in args.rows:
        gradio: dict[str, list[float]] = {}
        for logger in ("CSVLogger", "ClassicCSVLogger"):
            try:
                gradio[logger] = repeat(
                    lambda d, lg=logger, r=rows: gradio_rate(d, lg, r, args.gradio_flags), args.repeats
                )
            except ImportError:
                gradio = {}
                break
        base = statistics.median(gradio["CSVLogger"]) if gradio else None
        for logger, values in gradio.items():
            ratio = f"{statistics.median(values) / base:,.2f}" if base else ""
            median = statistics.median(values)
            table.add_row(
                f"gradio {logger}",
                f"{rows:,}",
                spread(values, 1),
                ratio,
                f"{median / sqlite_floor:.4f}",
                f"{median / csv_floor:.4f}",
            )
        source = prefilled_flagpipe(rows, cache)
        for mode in ("background", "inline"):
            values = repeat(lambda d, m=mode, s=source: flagpipe_rate(s, d, args.flags, m, lambda n: {}), args.repeats)
            median = statistics.median(values)
            ratio = f"{median / base:,.0f}" if base else "gradio not installed"
            table.add_row(
                f"flagpipe csv, {mode}",
                f"{rows:,}",
                spread(values),
                ratio,
                f"{median / sqlite_floor:.2f}",
                f"{median / csv_floor:.2f}",
            )
    for directory in cache.values():
        shutil.rmtree(directory, ignore_errors=True)
    console.print(table)


# -- files ----------------------------------------------------------------------------------------


def png_of(size: int, directory: Path) -> Path:
    from PIL import Image

    side = 1
    while True:  # noise compresses badly, so the PNG's size follows its pixel count
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        path = directory / "sample.png"
        image.save(path)
        if path.stat().st_size >= size:
            return path
        side = int(side * 1.05) + 1


def files_section(args: argparse.Namespace) -> None:
    table = Table("what", "flags/s median (min-max)", "x Gradio CSVLogger", title="Flags with a 100 KB PNG")
    with tempfile.TemporaryDirectory() as tmp:
        image = png_of(100_000, Path(tmp))
        gradio: list[float] = []
        with contextlib.suppress(ImportError):
            gradio = repeat(lambda d: gradio_rate(d, "CSVLogger", 0, args.file_flags, image), args.repeats)
        if gradio:
            table.add_row(f"gradio CSVLogger ({image.stat().st_size:,} B PNG)", spread(gradio), "1")
        empty = Path(tmp) / "empty"
        empty.mkdir()
        for mode in ("background", "inline"):

            def once(d: Path, m: str = mode) -> float:
                return flagpipe_rate(empty, d, args.file_flags, m, lambda n: {"image": image})

            values = repeat(once, args.repeats)
            ratio = f"{statistics.median(values) / statistics.median(gradio):,.1f}" if gradio else ""
            table.add_row(f"flagpipe csv, {mode}", spread(values), ratio)
    console.print(table)


# -- latency with a slow sink -----------------------------------------------------------------------


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


def latency_section(args: argparse.Namespace) -> None:
    table = Table("flag() latency: csv + webhook to a sink answering in 1 s", "p50 ms", "p99 ms", "max ms")
    runs: list[tuple[float, float, float]] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp, slow_sink(1.0) as url:
            config = {
                "dir": tmp,
                "callbacks": [
                    {"type": "csv"},
                    {"type": "webhook", "url": url, "private_addresses": "allow", "rate_limit": 1000, "batch": True},
                ],
                "delivery": {"grace": 0},
            }
            times = []
            with flagpipe.Flagger(config) as flagger:
                for n in range(args.latency_flags):
                    start = time.perf_counter()
                    flagger.flag({**ROW, "num1": n})
                    times.append((time.perf_counter() - start) * 1000)
                    time.sleep(0.001)
            times.sort()
            runs.append((times[len(times) // 2], times[int(len(times) * 0.99)], times[-1]))
    table.add_row(
        f"{args.latency_flags:,} flags, {args.repeats} runs",
        spread([r[0] for r in runs], 3),
        spread([r[1] for r in runs], 3),
        spread([r[2] for r in runs], 3),
    )
    console.print(table)


# -- start-up -------------------------------------------------------------------------------------


def startup_section(args: argparse.Namespace) -> None:
    code = "import time; t = time.perf_counter(); import flagpipe; print(time.perf_counter() - t)"
    imports = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) * 1000 for _ in range(7)]
    cli = Path(sys.executable).with_name("flagpipe")
    helps = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([str(cli), "--help"], check=True, capture_output=True)
        helps.append((time.perf_counter() - start) * 1000)
    table = Table("start-up", "ms median (min-max)")
    table.add_row("import flagpipe (in a fresh interpreter)", spread(imports, 1))
    table.add_row("flagpipe --help (whole process)", spread(helps, 1))
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Fewer flags and rows: a smoke run.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-backlog", action="store_true", help="Do not run bench_backlog.py at the end.")
    args = parser.parse_args()
    args.flags = 1000 if args.quick else 5000
    args.gradio_flags = 50 if args.quick else 200
    args.file_flags = 100 if args.quick else 500
    args.latency_flags = 300 if args.quick else 1000
    args.rows = [1000] if args.quick else [1000, 10_000, 50_000]
    console.print(
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"flagpipe {flagpipe.__version__}"
    )
    csv_section(args)
    files_section(args)
    latency_section(args)
    startup_section(args)
    subprocess.run([sys.executable, str(HERE / "bench_hub.py"), "--repeats", str(args.repeats)], check=True)
    if not args.skip_backlog:
        events = "100000" if args.quick else "1000000"
        subprocess.run(
            [sys.executable, str(HERE / "bench_backlog.py"), "--events", events, "--every", str(int(events) // 10)],
            check=True,
        )


if __name__ == "__main__":
    main()
