"""The journal: every accepted flag and each callback's delivery progress, in SQLite (WAL mode).

The journal is the source of truth: a flag is accepted once its event is committed here, whatever
happens to its deliveries afterwards. Each callback has a *lane*: a high-water mark (every event up to
``done_seq`` has been delivered, skipped by its ``when`` rule, or dead-lettered), its retry state, and
a lease that lets one process at a time deliver it. Bookkeeping is one row per lane plus one row per
dead letter, whatever the number of events. Several threads and processes may share one journal.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal

from flagpipe.core.event import FlagEvent
from flagpipe.core.journal_records import (
    ORPHANED_FILES_SQL,
    SCHEMA_SQL,
    DeadLetter,
    JournalError,
    LaneState,
    LaneStatus,
    new_owner_id,
    owner_is_dead,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

#: Where the journal lives, relative to the flagging directory.
JOURNAL_PATH = ".flagpipe/journal.sqlite3"


Durability = Literal["process", "fsync"]

#: How many recently appended events a journal keeps in memory for its lanes.
_RECENT_EVENTS = 4096


class Journal:
    """Accepted events, lane progress and dead letters, shared by threads and processes."""

    def __init__(self, directory: Path, *, durability: Durability = "process", busy_timeout: float = 30.0) -> None:
        self.path = directory / JOURNAL_PATH
        self._lock = threading.RLock()
        #: Events this process appended lately, so its lanes need not parse them back from JSON.
        self._recent: OrderedDict[int, FlagEvent] = OrderedDict()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash; FULL also survives power loss.
            self._db.execute(f"PRAGMA synchronous={'FULL' if durability == 'fsync' else 'NORMAL'}")
            self._db.executescript(SCHEMA_SQL)
            self._db.execute("PRAGMA quick_check(1)").fetchone()
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the flag journal {self.path}: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- events -------------------------------------------------------------------------------

    def append(self, event: FlagEvent) -> int:
        """Store ``event`` durably and return its sequence number."""
        body = event.model_dump_json()
        paths = [f.file.path for f in event.fields if f.file is not None]
        try:
            if not paths:  # one statement: SQLite commits it atomically on its own
                with self._lock:
                    cursor = self._db.execute(
                        "INSERT INTO events (id, created_at, body) VALUES (?, ?, ?)",
                        (event.id, event.created_at.isoformat(), body),
                    )
                    seq = cursor.lastrowid
            else:
                with self._transaction() as db:
                    cursor = db.execute(
                        "INSERT INTO events (id, created_at, body) VALUES (?, ?, ?)",
                        (event.id, event.created_at.isoformat(), body),
                    )
                    seq = cursor.lastrowid
                    db.executemany("INSERT INTO event_files (seq, path) VALUES (?, ?)", [(seq, p) for p in paths])
        except sqlite3.Error as exc:
            raise JournalError(f"cannot store the flag in {self.path}: {exc}") from None
        assert seq is not None
        with self._lock:
            self._recent[seq] = event
            if len(self._recent) > _RECENT_EVENTS:
                self._recent.popitem(last=False)
        return seq

    def count(self) -> int:
        """How many events the journal holds."""
        return self._int("SELECT COUNT(*) FROM events")

    def max_seq(self) -> int:
        """The newest sequence number (0 when empty)."""
        return self._int("SELECT COALESCE(MAX(seq), 0) FROM events")

    def _int(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._lock:
            value = self._db.execute(sql, params).fetchone()[0]
        return int(value)

    def latest(self, limit: int) -> list[FlagEvent]:
        """The newest ``limit`` events, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [FlagEvent.model_validate_json(body) for (body,) in reversed(rows)]

    def get(self, event_id: str) -> FlagEvent | None:
        """The event with ``event_id``, or None."""
        with self._lock:
            row = self._db.execute("SELECT body FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else FlagEvent.model_validate_json(row[0])

    def seq_of(self, event_id: str) -> int | None:
        """The sequence number of ``event_id``, or None."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else int(row[0])

    def events_after(self, seq: int, limit: int) -> list[tuple[int, FlagEvent]]:
        """Up to ``limit`` events with a sequence number above ``seq``, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
            cached = [self._recent.get(s) for s, _ in rows]
        return [
            (int(s), event if event is not None else FlagEvent.model_validate_json(b))
            for (s, b), event in zip(rows, cached, strict=True)
        ]

    def iter_events(self, batch: int = 1000) -> Iterator[tuple[int, FlagEvent]]:
        """Every event in order, read in batches."""
        after = 0
        while rows := self.events_after(after, batch):
            yield from rows
            after = rows[-1][0]

    # -- lanes --------------------------------------------------------------------------------

    def ensure_lanes(self, names: Sequence[str]) -> None:
        """Create lane rows for new callbacks; a new lane starts with every stored event pending."""
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO lanes (name) VALUES (?)", [(n,) for n in names])

    def lane(self, name: str) -> LaneState:
        """The persisted state of lane ``name``."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, done_seq, delivered, skipped, attempts, next_attempt_at, last_error, last_error_at,"
                " disabled_reason, lease_owner, lease_until,"
                " EXISTS (SELECT 1 FROM dead_letters WHERE lane = lanes.name AND requeued = 1)"
                " FROM lanes WHERE name = ?",
                (name,),
            ).fetchone()
        if row is None:
            raise KeyError(f"no lane {name!r} in {self.path}")
        name_, done, delivered, skipped, attempts, next_at, error, error_at, disabled, owner, until, requeued = row
        return LaneState(
            name_, done, delivered, skipped, attempts, next_at, error, error_at, disabled, owner, until, bool(requeued)
        )

    def lane_names(self) -> list[str]:
        """Every lane the journal knows, in name order."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM lanes ORDER BY name")]

    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease on a lane; False when another live process holds it."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute("SELECT lease_owner, lease_until FROM lanes WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            holder, until = row
            if holder not in (None, owner) and until > now and not owner_is_dead(holder):
                return False
            db.execute("UPDATE lanes SET lease_owner = ?, lease_until = ? WHERE name = ?", (owner, now + ttl, name))
        return True

    def release(self, name: str, owner: str) -> None:
        """Give up a lease this owner holds."""
        with self._transaction() as db:
            db.execute(
                "UPDATE lanes SET lease_owner = NULL, lease_until = 0 WHERE name = ? AND lease_owner = ?",
                (name, owner),
            )

    def advance(self, name: str, owner: str, upto: int, *, delivered: int, skipped: int) -> bool:
        """Record that everything up to ``upto`` is handled; resets the retry state."""
        with self._lock:  # one statement: atomic on its own
            cursor = self._db.execute(
                "UPDATE lanes SET done_seq = MAX(done_seq, ?), delivered = delivered + ?, skipped = skipped + ?,"
                " attempts = 0, next_attempt_at = 0, last_error = NULL WHERE name = ? AND lease_owner = ?",
                (upto, delivered, skipped, name, owner),
            )
        return cursor.rowcount == 1

    def record_failure(self, name: str, owner: str, error: str, *, attempts: int, next_attempt_at: float) -> None:
        """Record a failed try and when to try again."""
        with self._transaction() as db:
            db.execute(
                "UPDATE lanes SET attempts = ?, next_attempt_at = ?, last_error = ?, last_error_at = ?"
                " WHERE name = ? AND lease_owner = ?",
                (attempts, next_attempt_at, error, time.time(), name, owner),
            )

    def dead_letter(
        self,
        name: str,
        owner: str,
        items: Sequence[tuple[int, str]],
        error: str,
        *,
        attempts: int,
        upto: int,
        skipped: int = 0,
    ) -> None:
        """Park events as dead letters for this lane only, and move the lane past them."""
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO dead_letters (lane, seq, event_id, error, attempts, failed_at, requeued)"
                " VALUES (?, ?, ?, ?, ?, ?, 0)",
                [(name, seq, event_id, error, attempts, now) for seq, event_id in items],
            )
            db.execute(
                "UPDATE lanes SET done_seq = MAX(done_seq, ?), skipped = skipped + ?, attempts = 0,"
                " next_attempt_at = 0, last_error = ?, last_error_at = ? WHERE name = ? AND lease_owner = ?",
                (upto, skipped, error, now, name, owner),
            )

    def disable(self, name: str, reason: str) -> None:
        """Stop delivering to a lane until someone re-enables it (``flagpipe retry``)."""
        with self._transaction() as db:
            db.execute("UPDATE lanes SET disabled_reason = ? WHERE name = ?", (reason, name))

    # -- dead letters -------------------------------------------------------------------------

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
                "SELECT d.seq, e.body FROM dead_letters d JOIN events e ON e.seq = d.seq"
                " WHERE d.lane = ? AND d.requeued = 1 ORDER BY d.seq LIMIT ?",
                (name, limit),
            ).fetchall()
        return [(int(s), FlagEvent.model_validate_json(b)) for s, b in rows]

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
        with self._transaction() as db:
            lanes = {r[0] for r in db.execute(f"SELECT DISTINCT lane FROM dead_letters{where}", params)}  # noqa: S608
            if event_id is None:
                lanes |= {name} if name is not None else {r[0] for r in db.execute("SELECT name FROM lanes")}
            cursor = db.execute(f"UPDATE dead_letters SET requeued = 1{where}", params)  # noqa: S608 - fixed clauses
            db.executemany(
                "UPDATE lanes SET disabled_reason = NULL, next_attempt_at = 0 WHERE name = ?", [(n,) for n in lanes]
            )
        return cursor.rowcount

    # -- status and retention -----------------------------------------------------------------

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

    def purgeable(self, older_than: str, lanes: Sequence[str]) -> list[tuple[int, str]]:
        """Events created before ``older_than`` (ISO time) that every lane in ``lanes`` has handled."""
        with self._lock:
            done = [self.lane(n).done_seq for n in lanes] if lanes else [self.max_seq()]
            limit = min(done) if done else 0
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
                db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM staged_seqs)")
                db.execute("DELETE FROM event_files WHERE seq IN (SELECT seq FROM staged_seqs)")
        return orphaned

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


__all__ = [
    "JOURNAL_PATH",
    "DeadLetter",
    "Durability",
    "Journal",
    "JournalError",
    "LaneState",
    "LaneStatus",
    "new_owner_id",
]
