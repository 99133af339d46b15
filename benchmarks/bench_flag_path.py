"""The cost of one flag() on the request path, side by side with the bare SQLite floor, in one run.

Run: .venv/bin/python benchmarks/bench_flag_path.py [--repeats 3] [--quick] [--parts]

Figures (each the median of the repeats, with the spread min-max):

1. the floor: one SQLite ``INSERT`` + ``COMMIT`` per flag (WAL, ``synchronous=NORMAL``, the JSON body
   built in Python), and inline ``flag()`` with the default csv chain and the calculator's fields, as
   flags/s and as a share of the floor; with the journal statements and commits per flag;
2. background ``flag()`` beside a sink answering in 1 s: 2,000 flags paced at 1 ms, p50/p99/p99.9/max;
3. 8 threads flagging at once (background mode) against one thread, with commits per flag;
4. end to end in background mode: flags/s from the first flag until every row is in the CSV file;
5. durability: a flagging process SIGKILLed at random moments, then restarted: flags acknowledged but
   lost, and duplicated CSV rows (both must be 0).

``--parts`` adds the time of each part of one inline flag, each timed on its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import flagpipe

ROW = {"num1": 5, "operation": "add", "num2": 7, "output": -12}
console = Console(width=160)


def spread(values: list[float], digits: int = 0) -> str:
    fmt = f",.{digits}f"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def in_tmp(function: Callable[[Path], Any]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        return function(Path(tmp))


# -- 1. the floor and inline flag() --------------------------------------------------------------


def floor_rate(directory: Path, flags: int) -> float:
    """One INSERT + COMMIT per flag, WAL, synchronous=NORMAL, the JSON body built per flag."""
    db = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, created_at TEXT, body TEXT)")
    start = time.perf_counter()
    for n in range(flags):
        body = json.dumps({**ROW, "num1": n})
        db.execute(
            "INSERT INTO t (id, created_at, body) VALUES (?, ?, ?)",
            (str(n), datetime.now(timezone.utc).isoformat(), body),
        )
    elapsed = time.perf_counter() - start
    db.close()
    return flags / elapsed


class StatementCounter:
    """Counts the statements a SQLite connection runs, and its commits (explicit or autocommit)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self._in_transaction = False

    def __call__(self, sql: str) -> None:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            self._in_transaction = True
            return
        if word == "COMMIT":
            self._in_transaction = False
            self.commits += 1
            return
        if word == "ROLLBACK":
            self._in_transaction = False
            return
        self.statements += 1
        if not self._in_transaction and word in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            self.commits += 1


def trace(journal: Any, counter: StatementCounter | None) -> None:
    """Count the statements of every connection the journal uses (the lanes may read through their own).

    Each connection is traced while holding the lock its users hold around its statements: Python's
    ``set_trace_callback`` waits for the connection's mutex without releasing the interpreter lock, so
    a lane worker inside a statement, whose trace callback waits for the interpreter lock, would
    deadlock with it.
    """
    for name, lock in (("_db", "_lock"), ("_reader", "_read_lock")):
        connection = getattr(journal, name, None)
        if connection is not None:
            with getattr(journal, lock):
                connection.set_trace_callback(counter)


def inline_rate(directory: Path, flags: int, counter: StatementCounter | None = None) -> float:
    config = {"dir": str(directory), "delivery": {"mode": "inline"}}
    with flagpipe.Flagger(config) as flagger:
        flagger.flag(ROW, option=None)  # set-up (csv header, lease) is not part of the figure
        if counter is not None:
            journal = flagger.journal
            assert journal is not None
            trace(journal, counter)
        start = time.perf_counter()
        for n in range(flags):
            flagger.flag({**ROW, "num1": n})
        elapsed = time.perf_counter() - start
        if counter is not None:
            trace(journal, None)
    return flags / elapsed


def floor_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    floors, inline = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same load on a shared machine
        floors.append(in_tmp(lambda d: floor_rate(d, args.flags)))
        inline.append(in_tmp(lambda d: inline_rate(d, args.flags)))
    counter = StatementCounter()
    in_tmp(lambda d: inline_rate(d, 1000, counter))
    ratios = [i / f for i, f in zip(inline, floors, strict=True)]
    figures["floor"], figures["inline"], figures["inline_ratio"] = floors, inline, ratios
    table = Table(
        "1. inline flag(), csv chain", "flags/s median (min-max)", "of the floor", "statements/flag", "commits/flag"
    )
    table.add_row("floor: SQLite INSERT + COMMIT (WAL, NORMAL)", spread(floors), "1.00", "1", "1")
    table.add_row(
        "flagpipe inline flag()",
        spread(inline),
        spread(ratios, 2),
        f"{counter.statements / 1000:.2f}",
        f"{counter.commits / 1000:.2f}",
    )
    console.print(table)


# -- 2. latency beside a slow sink -----------------------------------------------------------------


#: The 1 s sink: a real HTTP server on 127.0.0.1 in a process of its own, as a webhook receiver is.
SINK = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(float(sys.argv[1]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def slow_sink(seconds: float) -> Iterator[str]:
    """A webhook receiver answering each request after ``seconds``, in another process.

    In the benchmark's own process, its threads (reading each batch, answering) would compete with
    ``flag()`` for the interpreter lock, which a real receiver on another host never does.
    """
    process = subprocess.Popen([sys.executable, "-c", SINK, str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def percentile(times: list[float], share: float) -> float:
    return times[min(len(times) - 1, int(len(times) * share))]


def latency_run(directory: Path, url: str, flags: int) -> tuple[float, float, float, float]:
    config = {
        "dir": str(directory),
        "callbacks": [
            {"type": "csv"},
            {"type": "webhook", "url": url, "private_addresses": "allow", "rate_limit": 1000, "batch": True},
        ],
        "delivery": {"grace": 0},
    }
    times = []
    with flagpipe.Flagger(config) as flagger:
        flagger.flag(ROW)  # set-up is not part of the figure: the csv header, the HTTP client (and its import)
        assert flagger.flush(30)
        for n in range(flags):
            start = time.perf_counter()
            flagger.flag({**ROW, "num1": n})
            times.append((time.perf_counter() - start) * 1000)
            time.sleep(0.001)
    times.sort()
    return percentile(times, 0.5), percentile(times, 0.99), percentile(times, 0.999), times[-1]


def floor_latency_run(directory: Path, flags: int) -> tuple[float, float, float, float]:
    """The floor's latency on this machine now: one INSERT + COMMIT per flag, paced like the flags."""
    db = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, created_at TEXT, body TEXT)")
    times = []
    for n in range(flags):
        start = time.perf_counter()
        body = json.dumps({**ROW, "num1": n})
        db.execute(
            "INSERT INTO t (id, created_at, body) VALUES (?, ?, ?)",
            (str(n), datetime.now(timezone.utc).isoformat(), body),
        )
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.001)
    db.close()
    times.sort()
    return percentile(times, 0.5), percentile(times, 0.99), percentile(times, 0.999), times[-1]


def latency_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    runs, floors = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp, slow_sink(1.0) as url:
            runs.append(latency_run(Path(tmp), url, args.latency_flags))
        floors.append(in_tmp(lambda d: floor_latency_run(d, args.latency_flags)))
    figures["latency"] = runs
    table = Table(
        f"2. background flag() beside a 1 s sink ({args.latency_flags:,} flags at 1 ms)",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
    )
    table.add_row("floor: SQLite INSERT + COMMIT, same pacing", *(spread([r[i] for r in floors], 3) for i in range(4)))
    table.add_row(f"flagpipe, csv + webhook, {args.repeats} runs", *(spread([r[i] for r in runs], 3) for i in range(4)))
    console.print(table)


# -- 3. threads, 4. end to end ---------------------------------------------------------------------


def threaded_rate(directory: Path, threads: int, flags: int) -> tuple[float, float, float]:
    """Flags/s of ``threads`` threads flagging at once (background mode); and commits per flag; and e2e."""
    config = {"dir": str(directory), "delivery": {"grace": 600}}
    counter = StatementCounter()
    with flagpipe.Flagger(config) as flagger:
        flagger.flag(ROW)
        flagger.flush(60)
        journal = flagger.journal
        assert journal is not None
        trace(journal, counter)
        barrier = threading.Barrier(threads + 1)

        def work(worker: int) -> None:
            barrier.wait()
            for n in range(flags // threads):
                flagger.flag({**ROW, "num1": n, "num2": worker})

        workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
        for thread in workers:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in workers:
            thread.join()
        accepted = time.perf_counter() - start
        assert flagger.flush(600)
        delivered = time.perf_counter() - start
        trace(journal, None)
    commits = counter.commits
    total = flags // threads * threads
    return total / accepted, commits / total, total / delivered


def threads_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    table = Table(
        "3./4. background flag()",
        "accepted flags/s",
        "journal commits/flag",
        "end to end flags/s (to CSV row)",
        "of inline (same repeat)",
    )
    runs: dict[int, list[tuple[float, float, float]]] = {1: [], 8: []}
    inline: list[float] = []
    for _ in range(args.repeats):  # interleaved with an inline run, so each ratio compares like with like
        inline.append(in_tmp(lambda d: inline_rate(d, args.flags)))
        for threads, results in runs.items():
            results.append(in_tmp(lambda d, t=threads: threaded_rate(d, t, args.flags)))
    figures["e2e_ratio"] = [r[2] / i for r, i in zip(runs[1], inline, strict=True)]
    table.add_row("inline, 1 thread (reference)", spread(inline), "", spread(inline), "1.00")
    for threads, results in runs.items():
        figures[f"threads{threads}"] = results
        table.add_row(
            f"{threads} thread{'s' if threads > 1 else ''}",
            spread([r[0] for r in results]),
            spread([r[1] for r in results], 2),
            spread([r[2] for r in results]),
            spread([r[2] / i for r, i in zip(results, inline, strict=True)], 2),
        )
    console.print(table)


# -- 5. durability ---------------------------------------------------------------------------------

LOOP = """
import sys
from flagpipe import Flagger
config = {"dir": sys.argv[1], "delivery": {"grace": 60, "poll_interval": 0.05}}
with Flagger(config) as flagger:
    for n in range(1_000_000):
        print(flagger.flag({"n": n, "text": f'row {n}, "quoted"'}).id, flush=True)
"""


def crash_run(directory: Path, kills: int, rng: random.Random) -> tuple[int, int, int]:
    acknowledged: list[str] = []
    for _ in range(kills):
        process = subprocess.Popen(
            [sys.executable, "-c", LOOP, str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        first = process.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate(timeout=60)
        acknowledged += [first.strip()] + [line for line in rest.splitlines() if len(line) == 36]
    with flagpipe.Flagger({"dir": str(directory), "delivery": {"grace": 120}}) as flagger:
        flagger.flush(120)
        journal = flagger.journal
        assert journal is not None
        stored = {event.id for _, event in journal.iter_events()}
    with (directory / "log.csv").open(newline="", encoding="utf-8") as handle:
        ids = [row[-1] for row in list(csv.reader(handle))[1:]]
    duplicated = sum(n - 1 for n in Counter(ids).values() if n > 1)
    lost = len(set(acknowledged) - stored) + len(stored - set(ids))
    return len(acknowledged), lost, duplicated


def crash_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    acknowledged, lost, duplicated = in_tmp(lambda d: crash_run(d, args.kills, random.Random(14)))
    figures["crash"] = (acknowledged, lost, duplicated)
    table = Table(f"5. SIGKILL {args.kills} times, then restart", "flags acknowledged", "lost", "duplicated CSV rows")
    table.add_row("background, csv", f"{acknowledged:,}", str(lost), str(duplicated))
    console.print(table)


# -- the parts of one inline flag ----------------------------------------------------------------


def parts_section(args: argparse.Namespace) -> None:
    """Time each part of an inline flag on its own (best of 5), in µs, with what the journal does per flag."""
    from flagpipe.core.event_build import build_event
    from flagpipe.core.files import FileStore
    from flagpipe.core.guard import CallGuard
    from flagpipe.core.journal import Journal
    from flagpipe.core.schema import FlagSchema
    from flagpipe.core.values import ValueConverter
    from flagpipe.plugins.csv import CSVCallback, CSVSettings

    def best(function: Callable[[], object], number: int = 3000) -> float:
        return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        converter = ValueConverter(FileStore(directory, max_bytes=None, fsync=False), [])
        fields = tuple(converter.convert(k, v, None) for k, v in ROW.items())

        def event() -> flagpipe.FlagEvent:
            return build_event(mode="manual", fields=fields, metadata={})

        journal = Journal(directory, read_only=False)
        journal.ensure_lanes(["csv"])
        journal.acquire("csv", "bench", 600)
        sample = event()
        seq = [0]

        def bookkeeping() -> None:
            seq[0] += 1
            journal.advance("csv", "bench", seq[0], delivered=1, skipped=0, defer=True)

        callback = CSVCallback(CSVSettings())
        callback.setup(FlagSchema.from_event(sample), directory)
        events = iter([event() for _ in range(16_000)])
        guard = CallGuard("bench", 60)
        figures = {
            "value conversion (4 fields)": best(lambda: tuple(converter.convert(k, v, None) for k, v in ROW.items())),
            "event built": best(event),
            "JSON body": best(sample.model_dump_json),
            "journal append: INSERT + commit (incl. JSON)": best(lambda: journal.append(event()), 1000),
            "lane bookkeeping (progress in memory)": best(bookkeeping),
            "csv callback, one row (called on the flagging thread)": best(
                lambda: guard.call_here("deliver()", callback.deliver, [next(events)]), 1000
            ),
            "call guard hand-over, a call that does nothing (callbacks without runs_in_caller)": best(
                lambda: guard.call("x", lambda: None), 1000
            ),
        }
        callback.close()
        journal.close()
    table = Table("parts of one inline flag (each alone, best of 5)", "µs")
    for label, value in figures.items():
        table.add_row(label, f"{value:.1f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="Fewer flags: a smoke run.")
    parser.add_argument("--parts", action="store_true", help="Also print the time of each part of one inline flag.")
    parser.add_argument("--skip-crash", action="store_true", help="Leave out the SIGKILL section.")
    parser.add_argument("--only", choices=["floor", "latency", "threads", "parts"], help="Run one section alone.")
    args = parser.parse_args()
    args.flags = 2000 if args.quick else 8000
    args.latency_flags = 500 if args.quick else 2000
    args.kills = 3 if args.quick else 10
    console.print(
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"flagpipe {flagpipe.__version__}, sqlite {sqlite3.sqlite_version}"
    )
    figures: dict[str, Any] = {}
    if args.only == "parts":
        parts_section(args)
        return
    if args.only:
        {"floor": floor_section, "latency": latency_section, "threads": threads_section}[args.only](args, figures)
        return
    floor_section(args, figures)
    latency_section(args, figures)
    threads_section(args, figures)
    if not args.skip_crash:
        crash_section(args, figures)
    if args.parts:
        parts_section(args)
    ratio = statistics.median(figures["inline_ratio"])
    p99 = statistics.median(r[1] for r in figures["latency"])
    p999 = statistics.median(r[2] for r in figures["latency"])
    one = statistics.median(r[0] for r in figures["threads1"])
    eight = statistics.median(r[0] for r in figures["threads8"])
    e2e = statistics.median(figures["e2e_ratio"])
    goals = Table("goal (medians)", "measured", "met")
    goals.add_row("1. inline >= 0.5 of the floor", f"{ratio:.2f}", "yes" if ratio >= 0.5 else "no")
    goals.add_row(
        "2. p99 < 0.3 ms, p99.9 < 2 ms", f"{p99:.3f} / {p999:.3f} ms", "yes" if p99 < 0.3 and p999 < 2 else "no"
    )
    goals.add_row("3. 8 threads >= 1 thread", f"{eight:,.0f} vs {one:,.0f}/s", "yes" if eight >= one else "no")
    goals.add_row("4. end to end >= inline", f"{e2e:.2f} of inline", "yes" if e2e >= 1 else "no")
    if "crash" in figures:
        _, lost, duplicated = figures["crash"]
        goals.add_row(
            "5. nothing lost or duplicated",
            f"{lost} lost, {duplicated} duplicated",
            "yes" if lost + duplicated == 0 else "no",
        )
    console.print(goals)


if __name__ == "__main__":
    main()
