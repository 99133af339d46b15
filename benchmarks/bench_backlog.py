"""Resident memory while a sink is down and events pile up: pending work must live on disk, not in memory.

Run: .venv/bin/python benchmarks/bench_backlog.py [--events 1000000] [--every 100000]
A CSV callback keeps delivering while an HTTP callback points at a closed port on 127.0.0.1 (connection
refused, retried with back-off). Prints the resident set size (RSS) as the backlog grows.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import flagpipe
from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when this block ends: connections are refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "delivery"))
    from http_sink import PostPlugin  # the test suite's small HTTP callback

    plugins = create_plugin_host(PluginPolicy(autoload=False))
    plugins.register(PostPlugin(), "post")
    table = Table("events flagged", "pending for the dead sink", "RSS MiB", "flags/s since last row")
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "dir": tmp,
            "callbacks": [{"type": "csv"}, {"type": "test_post", "url": f"http://127.0.0.1:{closed_port()}/"}],
            "delivery": {"grace": 0, "retry": {"initial_delay": 5, "max_delay": 60, "attempts": 1000}},
        }
        with flagpipe.Flagger(config, plugins=plugins) as flagger:
            journal = flagger.journal
            assert journal is not None
            table.add_row("0", "0", f"{rss_mib():.1f}", "")
            start = time.perf_counter()
            for n in range(1, args.events + 1):
                flagger.flag({"num1": n, "operation": "add", "num2": 7, "output": -12}, option="wrong sign")
                if n % args.every == 0:
                    elapsed = time.perf_counter() - start
                    pending = {s.name: s.pending for s in journal.status()}["test_post"]
                    table.add_row(f"{n:,}", f"{pending:,}", f"{rss_mib():.1f}", f"{args.every / elapsed:,.0f}")
                    start = time.perf_counter()
    Console().print(table)


if __name__ == "__main__":
    main()
