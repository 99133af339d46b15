"""The journal's status and retention: what ``flagpipe status`` shows, and purging old events."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from flagpipe.core.journal_records import ORPHANED_FILES_SQL, RAISE_SEQ_GUARD_SQL, LaneState, LaneStatus

if TYPE_CHECKING:
    from collections.abc import Sequence


class JournalStatus:
    """Status and retention, mixed into :class:`~flagpipe.core.journal.Journal`."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def lane_names(self) -> list[str]:
        raise NotImplementedError

    def lane(self, name: str) -> LaneState:
        raise NotImplementedError

    def save_progress(self, older_than: float | None = None) -> None:
        raise NotImplementedError

    def ensure_lanes(self, names: Sequence[str]) -> None:
        raise NotImplementedError

    def max_seq(self) -> int:
        raise NotImplementedError

    def status(self) -> list[LaneStatus]:
        """Per lane: delivered, skipped, pending, dead, oldest pending, retry state, last error."""
        result = []
        for name in self.lane_names():
            state = self.lane(name)
            with self._lock:
                pending = self._db.execute("SELECT COUNT(*) FROM events WHERE seq > ?", (state.done_seq,)).fetchone()[0]
                oldest = self._db.execute(
                    "SELECT created_at FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (state.done_seq,)
                ).fetchone()
                dead = self._db.execute(
                    "SELECT COUNT(*) FROM dead_letters WHERE lane = ? AND requeued = 0", (name,)
                ).fetchone()[0]
                requeued = self._db.execute(
                    "SELECT COUNT(*) FROM dead_letters WHERE lane = ? AND requeued = 1", (name,)
                ).fetchone()[0]
            result.append(
                LaneStatus(
                    name=name,
                    delivered=state.delivered,
                    skipped=state.skipped,
                    pending=int(pending) + int(requeued),
                    dead=int(dead),
                    oldest_pending_at=oldest[0] if oldest else None,
                    attempts=state.attempts,
                    next_attempt_at=state.next_attempt_at,
                    last_error=state.last_error,
                    disabled_reason=state.disabled_reason,
                    lease_owner=state.lease_owner if state.lease_until > time.time() else None,
                )
            )
        return result

    def purgeable(self, older_than: str, lanes: Sequence[str] = ()) -> list[tuple[int, str]]:
        """Events created before ``older_than`` (ISO time) that every lane has handled.

        Every lane recorded in the journal counts, not only ``lanes`` (the caller's chain): an event
        another config's callback has not delivered yet is kept.
        """
        with self._lock:
            self.save_progress()
            self.ensure_lanes(lanes)
            row = self._db.execute("SELECT MIN(done_seq) FROM lanes").fetchone()
            limit = self.max_seq() if row[0] is None else int(row[0])
            rows = self._db.execute(
                "SELECT seq, id FROM events WHERE seq <= ? AND created_at < ? AND seq NOT IN"
                " (SELECT seq FROM dead_letters) ORDER BY seq",
                (limit, older_than),
            ).fetchall()
        return [(int(s), str(i)) for s, i in rows]

    def _stage_seqs(self, db: sqlite3.Connection, seqs: Sequence[int]) -> None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS staged_seqs (seq INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM staged_seqs")
        db.executemany("INSERT INTO staged_seqs (seq) VALUES (?)", [(s,) for s in seqs])

    def purge(self, seqs: Sequence[int], *, dry_run: bool = False) -> list[str]:
        """Delete events (unless ``dry_run``); return the file paths only they referred to (safe to delete)."""
        with self._transaction() as db:
            self._stage_seqs(db, seqs)
            orphaned = [r[0] for r in db.execute(ORPHANED_FILES_SQL).fetchall()]
            if not dry_run:
                # the newest events may go too: their numbers are never given again
                highest = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                db.execute(RAISE_SEQ_GUARD_SQL, (highest,))
                db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM staged_seqs)")
                db.execute("DELETE FROM event_files WHERE seq IN (SELECT seq FROM staged_seqs)")
        return orphaned


__all__ = ["JournalStatus"]
