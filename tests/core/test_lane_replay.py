"""Lane progress saved per batch: after SIGKILL, events delivered but not yet recorded are replayed, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from tests.csv_log import read_rows

from flagpipe import Flagger
from flagpipe.core.journal import Journal

LOOP = Path(__file__).with_name("replay_loop.py")
pytestmark = pytest.mark.slow


def test_flags_delivered_before_a_sigkill_are_replayed_without_duplicate_rows(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    acknowledged: list[str] = []
    for count in (130, 7):  # a full saved batch and a part, then only a part
        done = subprocess.run(
            [sys.executable, str(LOOP), str(tmp_path), str(count)], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
        acknowledged += done.stdout.split()
    rows_before = read_rows(tmp_path / "log.csv")
    assert sorted(r["id"] for r in rows_before) == sorted(acknowledged)  # each delivered inline before flag() returned
    journal = Journal(tmp_path, read_only=True)
    try:
        saved = journal.lane("csv").done_seq
    finally:
        journal.close()
    assert saved <= len(acknowledged)
    with Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}}) as flagger:
        assert flagger.flush(60)
        journal = flagger.journal
        assert journal is not None
        state = journal.lane("csv")
        assert state.done_seq == len(acknowledged)
    rows = read_rows(tmp_path / "log.csv")
    ids = [r["id"] for r in rows]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert sorted(ids) == sorted(acknowledged)
    assert all(r["text"].endswith('"quoted"\n=1+1') for r in rows)
