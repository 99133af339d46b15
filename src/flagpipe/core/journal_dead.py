"""The journal's dead letters: events a lane gave up on, re-queued by ``flagpipe retry``."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from flagpipe.core.journal_records import DeadLetter, UndecodableEventError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe.core.event import FlagEvent

log = logging.getLogger("flagpipe.journal")


class DeadLetters:
    """Dead-letter bookkeeping, mixed into :class:`~flagpipe.core.journal.Journal`."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    lane_generation: int

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _decode(self, seq: int, event_id: str, body: str) -> FlagEvent:
        raise NotImplementedError

    def dead_error(self, name: str, seq: int) -> str | None:
        """The error of the dead letter of event ``seq`` in lane ``name``, or None when it is not dead."""
        with self._lock:
            row = self._db.execute("SELECT error FROM dead_letters WHERE lane = ? AND seq = ?", (name, seq)).fetchone()
        return None if row is None else str(row[0])

    def dead_letters(self, name: str | None = None) -> list[DeadLetter]:
        """Dead letters, of one lane or all, in order."""
        sql = "SELECT lane, seq, event_id, error, attempts, failed_at, requeued FROM dead_letters"
        params: tuple[object, ...] = ()
        if name is not None:
            sql += " WHERE lane = ?"
            params = (name,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY lane, seq", params).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def requeued(self, name: str, limit: int) -> list[tuple[int, FlagEvent]]:
        """Dead letters of ``name`` that were re-queued, with their events, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT d.seq, e.id, e.body FROM dead_letters d JOIN events e ON e.seq = d.seq"
                " WHERE d.lane = ? AND d.requeued = 1 ORDER BY d.seq LIMIT ?",
                (name, limit),
            ).fetchall()
        items = []
        for seq, event_id, body in rows:
            try:
                items.append((int(seq), self._decode(seq, event_id, body)))
            except UndecodableEventError as exc:
                log.error("flagpipe: %s; it stays a dead letter of %s", exc, name)
                self.fail_requeued(name, [seq], str(exc))
        return items

    def resolve_dead(self, name: str, seqs: Sequence[int]) -> None:
        """Remove re-queued dead letters that have now been delivered."""
        with self._transaction() as db:
            db.executemany("DELETE FROM dead_letters WHERE lane = ? AND seq = ?", [(name, s) for s in seqs])
            db.execute("UPDATE lanes SET delivered = delivered + ? WHERE name = ?", (len(seqs), name))

    def fail_requeued(self, name: str, seqs: Sequence[int], error: str) -> None:
        """Put re-queued dead letters back as dead after another failure."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE dead_letters SET requeued = 0, error = ?, attempts = attempts + 1, failed_at = ?"
                " WHERE lane = ? AND seq = ?",
                [(error, time.time(), name, s) for s in seqs],
            )

    def requeue(self, name: str | None = None, event_id: str | None = None) -> int:
        """Re-queue dead letters (of a lane, of one event, or all); return how many.

        The lanes that held them are re-enabled if they were disabled (with neither filter given,
        or with only a lane named, that lane is re-enabled even when it holds no dead letter).
        """
        clauses, params = [], []
        if name is not None:
            clauses.append("lane = ?")
            params.append(name)
        if event_id is not None:
            clauses.append("event_id = ?")
            params.append(event_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        self.lane_generation += 1  # lanes of this process re-read their state
        with self._transaction() as db:
            lanes = {r[0] for r in db.execute(f"SELECT DISTINCT lane FROM dead_letters{where}", params)}  # noqa: S608
            if event_id is None:
                lanes |= {name} if name is not None else {r[0] for r in db.execute("SELECT name FROM lanes")}
            cursor = db.execute(f"UPDATE dead_letters SET requeued = 1{where}", params)  # noqa: S608 - fixed clauses
            db.executemany(
                "UPDATE lanes SET disabled_reason = NULL, next_attempt_at = 0 WHERE name = ?", [(n,) for n in lanes]
            )
        return cursor.rowcount


__all__ = ["DeadLetters"]
