"""One replica of an app for the sinks' crash tests: flags until its journal holds COUNT, printing each id.

Usage: ``replica.py DIR COUNT WORKER CALLBACK_JSON [DELIVERY_JSON]``. A restarted replica (same DIR)
flags only what its journal still lacks, then waits until the callback has everything, so the
replicas together store exactly COUNT flags each. :func:`start_replica` runs it as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def start_replica(
    directory: Path, count: int, worker: str, callback: dict[str, Any], delivery: dict[str, Any] | None = None
) -> subprocess.Popen[str]:
    """Start one replica delivering to ``callback`` (a chain item, ``type`` included)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [
        sys.executable,
        __file__,
        str(directory),
        str(count),
        worker,
        json.dumps(callback),
        json.dumps(delivery or {}),
    ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def main() -> None:
    from flagpipe import Flagger
    from flagpipe.core.journal import Journal

    directory, count, worker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    callback, delivery = json.loads(sys.argv[4]), json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    journal = Journal(Path(directory))
    try:
        existing = sum(1 for _ in journal.iter_events())
    finally:
        journal.close()
    config = {
        "dir": directory,
        "app": "replicas",
        "callbacks": [callback],
        "delivery": {
            "grace": 120,
            "poll_interval": 0.05,
            "retry": {"attempts": 1000, "initial_delay": 0.05, "max_delay": 0.5},
            **delivery,
        },
    }
    with Flagger(config) as flagger:
        for n in range(existing, count):
            receipt = flagger.flag({"worker": worker, "n": n, "text": f"flag {n} of {worker}"}, option="wrong")
            print(receipt.id, flush=True)
        if not flagger.flush(180):
            print("NOT FLUSHED", flush=True)
            sys.exit(3)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
