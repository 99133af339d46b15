"""The journal's upkeep thread: checkpoints off the flag path, saved lane progress, and stopping on close."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from flagpipe import Flagger
from flagpipe.core.journal import JOURNAL_PATH, Journal

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ROW = {"num1": 5, "operation": "add", "num2": 7, "output": -12}


def upkeep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flagpipe-journal-upkeep"]


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_flagger_checkpoints_from_its_upkeep_thread_and_stops_it_on_close(tmp_path: Path) -> None:
    before = upkeep_threads()
    flagger = Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}})
    journal = flagger.journal
    assert journal is not None and journal.upkeep is not None
    upkeep = journal.upkeep
    assert upkeep.running
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for n in range(300):
        flagger.flag({**ROW, "num1": n})
    assert wait_for(lambda: upkeep.checkpoints > 0), "the upkeep thread never checkpointed"
    flagger.close()
    assert not upkeep.running
    assert upkeep_threads() == before


def test_a_reading_journal_starts_no_upkeep(tmp_path: Path) -> None:
    with Flagger({"dir": str(tmp_path)}) as flagger:
        flagger.flag(ROW)
    before = upkeep_threads()
    journal = Journal(tmp_path)
    try:
        assert journal.upkeep is None
        assert upkeep_threads() == before
        assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone() != (0,)
    finally:
        journal.close()


def test_lane_progress_is_saved_per_batch_and_in_full_on_close(tmp_path: Path) -> None:
    flagger = Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}})
    journal = flagger.journal
    assert journal is not None
    for n in range(250):
        flagger.flag({**ROW, "num1": n})
    # in this process, the lane's state always includes what is not saved yet
    assert journal.lane("csv").done_seq == 250
    # another connection sees the progress saved so far: at least every full batch (100 events)
    other = Journal(tmp_path, read_only=True)
    try:
        assert other.lane("csv").done_seq >= 200
    finally:
        other.close()
    flagger.close()
    other = Journal(tmp_path, read_only=True)
    try:
        state = other.lane("csv")
        assert (state.done_seq, state.delivered) == (250, 250)
    finally:
        other.close()


def test_lane_progress_left_unsaved_is_saved_by_the_upkeep_thread(tmp_path: Path) -> None:
    with Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}}) as flagger:
        for n in range(3):
            flagger.flag({**ROW, "num1": n})
        other = Journal(tmp_path, read_only=True)
        try:
            assert wait_for(lambda: other.lane("csv").done_seq == 3), "the progress was never saved"
        finally:
            other.close()


def test_progress_the_journal_cannot_take_stays_in_memory_until_it_can(tmp_path: Path) -> None:
    journal = Journal(tmp_path, busy_timeout=0.05)
    journal.ensure_lanes(["csv"])
    assert journal.acquire("csv", "me", 60)
    for upto in (1, 2, 3):
        journal.advance("csv", "me", upto, delivered=1, skipped=0, defer=True)
    blocker = sqlite3.connect(tmp_path / JOURNAL_PATH, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database: saving fails
    try:
        journal.save_progress()  # does not raise
        state = journal.lane("csv")  # and this process still sees its progress
        assert (state.done_seq, state.delivered) == (3, 3)
        saved = blocker.execute("SELECT done_seq, delivered FROM lanes WHERE name = 'csv'").fetchone()
        assert saved == (0, 0)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    journal.save_progress()
    other = Journal(tmp_path, read_only=True)
    try:
        state = other.lane("csv")
        assert (state.done_seq, state.delivered) == (3, 3)
    finally:
        other.close()
        journal.close()
