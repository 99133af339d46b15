"""Real processes: SIGKILL at random moments, and several processes flagging into one directory."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.csv_log import read_rows

from flagpipe import Flagger
from flagpipe.core.journal import Journal

LOOP = Path(__file__).with_name("flag_loop.py")
pytestmark = pytest.mark.slow


def start_loop(directory: Path, count: int, worker: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, str(LOOP), str(directory), str(count), worker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def journal_ids(directory: Path) -> list[str]:
    journal = Journal(directory)
    try:
        return [event.id for _, event in journal.iter_events()]
    finally:
        journal.close()


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    acknowledged: list[str] = []
    for _ in range(20):
        process = start_loop(tmp_path, 100_000, "crash")
        assert process.stdout is not None
        first = process.stdout.readline()  # the Flagger is up and has flagged once
        assert first.strip(), process.stderr.read() if process.stderr else ""
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        acknowledged += [first.strip()] + [line for line in rest.splitlines() if len(line) == 36]
    stored = journal_ids(tmp_path)
    assert set(acknowledged) <= set(stored), "a flag whose flag() returned is missing from the journal"
    assert len(stored) == len(set(stored))
    # a restart delivers whatever the crashes left pending, and the CSV skips rows it already holds
    with Flagger({"dir": str(tmp_path), "delivery": {"grace": 120}}) as flagger:
        assert flagger.flush(120)
    rows = read_rows(tmp_path / "log.csv")
    ids = [r["id"] for r in rows]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    assert sorted(ids) == sorted(stored)
    assert all(r["worker"] == "crash" and r["text"].startswith("row ") for r in rows)


def test_four_processes_flag_into_one_dir(tmp_path: Path) -> None:
    processes = [start_loop(tmp_path, 2000, f"w{n}") for n in range(4)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        outputs.append(out.split())
    acknowledged = [i for out in outputs for i in out]
    assert len(acknowledged) == 8000
    rows = read_rows(tmp_path / "log.csv")
    assert len(rows) == 8000
    assert sorted(r["id"] for r in rows) == sorted(acknowledged)
    assert all(len(r) == 7 for r in rows)
    for worker in range(4):
        mine = [int(r["n"]) for r in rows if r["worker"] == f"w{worker}"]
        assert mine == list(range(2000))  # each process's flags in its own order
    journal = Journal(tmp_path)
    try:
        (status,) = journal.status()
        assert status.delivered == 8000 and status.pending == 0 and status.dead == 0
    finally:
        journal.close()
