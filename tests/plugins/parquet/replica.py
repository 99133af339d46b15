"""One replica of an app for the parquet crash tests: flags until its journal holds COUNT, printing each id.

Usage: ``replica.py DIR COUNT WORKER SETTINGS_JSON``. A restarted replica (same DIR) flags only what its
journal still lacks, then waits until the parquet callback has everything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flagpipe import Flagger
from flagpipe.core.journal import Journal


def main() -> None:
    directory, count, worker, settings = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    journal = Journal(Path(directory))
    try:
        existing = sum(1 for _ in journal.iter_events())
    finally:
        journal.close()
    config = {
        "dir": directory,
        "app": "replicas",
        "callbacks": [{"type": "parquet", **settings}],
        "delivery": {
            "grace": 120,
            "poll_interval": 0.02,
            "retry": {"attempts": 1000, "initial_delay": 0.05, "max_delay": 0.5},
        },
    }
    with Flagger(config) as flagger:
        for n in range(existing, count):
            receipt = flagger.flag({"worker": worker, "n": n, "text": f"flag {n} of {worker}"}, option="wrong")
            print(receipt.id, flush=True)
        if not flagger.flush(120):
            print("NOT FLUSHED", flush=True)
            sys.exit(3)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
