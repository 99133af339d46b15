"""The journal's lanes: each callback's progress, lease, retry state and registrations.

A lane's progress after a successful delivery may be *deferred* (:meth:`LaneRecords.advance` with
``defer=True``): it is kept in memory and saved in one transaction once it covers
:attr:`LaneRecords.save_every` events, once it is older than a moment (the journal's upkeep thread),
and before anything reads or changes the lane. A crash loses at most that unsaved progress, so those
events are offered again: sinks skip them by event id (at-least-once delivery).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from flagpipe.core.journal_progress import UnsavedProgress
from flagpipe.core.journal_records import JournalError, LaneConflictError, LaneState, owner_is_dead

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

log = logging.getLogger("flagpipe.journal")

#: The registration, beside the lanes', of what a process does to flags before it stores them (its
#: top-level ``redact:``): every live process storing into one journal must register the same.
STORING = ":storing"


class LaneRecords:
    """Lane bookkeeping, mixed into :class:`~flagpipe.core.journal.Journal`."""

    path: Path
    read_only: bool
    _db: sqlite3.Connection
    _lock: threading.RLock
    #: Deferred lane progress, saved per batch (see the module's docstring).
    _unsaved: UnsavedProgress
    #: Save deferred progress once it covers this many events.
    save_every: int = 100
    #: Bumped whenever dead letters are re-queued or a lane is dropped, so lanes re-read their state.
    lane_generation: int = 0
    #: True while saving lane progress fails (it is logged once as a warning, then at debug level).
    _progress_unsaved: bool = False

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def ensure_lanes(self, names: Sequence[str]) -> None:
        """Create lane rows for new callbacks; a new lane starts with every stored event pending.

        A read-only journal is left as it is (readers see only the lanes it has).
        """
        if self.read_only:
            return
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO lanes (name) VALUES (?)", [(n,) for n in names])

    def register_lanes(self, owner: str, fingerprints: dict[str, str]) -> None:
        """Record that ``owner`` delivers these lanes with these settings (fingerprints).

        The name :data:`STORING` registers what ``owner`` does to flags before it stores them.

        :raises LaneConflictError: a live process uses one of the lanes (or stores) with different settings.
        """
        with self._transaction() as db:
            owners = {r[0] for r in db.execute("SELECT DISTINCT owner FROM lane_users")}
            db.executemany("DELETE FROM lane_users WHERE owner = ?", [(o,) for o in owners if owner_is_dead(o)])
            for name, fingerprint in fingerprints.items():
                other = db.execute(
                    "SELECT owner FROM lane_users WHERE lane = ? AND fingerprint != ? LIMIT 1", (name, fingerprint)
                ).fetchone()
                if other is not None and name == STORING:
                    raise LaneConflictError(
                        f"the flags in {self.path} are stored with another top-level redact: by process {other[0]}:"
                        " every process that flags into one directory must redact the same way (or not at all),"
                        " or some flags would be stored unredacted. Use the same redact: block, or another dir:."
                    )
                if other is not None:
                    raise LaneConflictError(
                        f"callback {name!r} is already delivered from {self.path} with other settings"
                        f" (by process {other[0]}): two configs would split one stream of flags between two"
                        " destinations. Give the callback a different `name:` in one of the configs, or stop"
                        " the other process first."
                    )
            db.executemany(
                "INSERT OR REPLACE INTO lane_users (lane, owner, fingerprint) VALUES (?, ?, ?)",
                [(name, owner, fp) for name, fp in fingerprints.items()],
            )

    def unregister_lanes(self, owner: str) -> None:
        """Forget ``owner``'s lane registrations (it closed)."""
        with self._transaction() as db:
            db.execute("DELETE FROM lane_users WHERE owner = ?", (owner,))

    def forget_lane(self, name: str) -> bool:
        """Drop a lane no config uses any more, with its dead letters; True when there was one."""
        self.save_progress()
        self.lane_generation += 1
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM lanes WHERE name = ?", (name,))
            db.execute("DELETE FROM dead_letters WHERE lane = ?", (name,))
            db.execute("DELETE FROM lane_users WHERE lane = ?", (name,))
        return cursor.rowcount == 1

    def lane(self, name: str) -> LaneState:
        """The state of lane ``name`` (deferred progress is saved first)."""
        with self._lock:
            self.save_progress()
            row = self._db.execute(
                "SELECT name, done_seq, delivered, skipped, attempts, next_attempt_at, last_error, last_error_at,"
                " disabled_reason, lease_owner, lease_until,"
                " EXISTS (SELECT 1 FROM dead_letters WHERE lane = lanes.name AND requeued = 1)"
                " FROM lanes WHERE name = ?",
                (name,),
            ).fetchone()
            unsaved = self._unsaved.pending(name)
        if row is None:
            raise KeyError(f"no lane {name!r} in {self.path}")
        name_, done, delivered, skipped, attempts, next_at, error, error_at, disabled, owner, until, requeued = row
        if unsaved is not None:  # progress the journal could not take yet
            done, delivered, skipped = max(done, unsaved[0]), delivered + unsaved[1], skipped + unsaved[2]
            attempts, next_at, error = 0, 0.0, None
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
        self.save_progress()
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
        """Give up a lease this owner holds (saving the lane's deferred progress first)."""
        self.save_progress()
        with self._transaction() as db:
            db.execute(
                "UPDATE lanes SET lease_owner = NULL, lease_until = 0 WHERE name = ? AND lease_owner = ?",
                (name, owner),
            )

    def advance(self, name: str, owner: str, upto: int, *, delivered: int, skipped: int, defer: bool = False) -> bool:
        """Record that everything up to ``upto`` is handled; resets the retry state.

        With ``defer`` the progress is kept in memory and saved later (see the module's docstring);
        True then means only that it is recorded. Without it, False means ``owner`` no longer holds the lease.
        """
        if defer:
            with self._lock:
                if self._unsaved.add(name, owner, upto, delivered=delivered, skipped=skipped) >= self.save_every:
                    self.save_progress()
            return True
        with self._lock:
            self.save_progress()
            cursor = self._db.execute(_ADVANCE_SQL, (upto, delivered, skipped, name, owner))
        return cursor.rowcount == 1

    def save_progress(self, older_than: float | None = None) -> None:
        """Save deferred lane progress in one transaction; with ``older_than`` (seconds), only if it is that old.

        Never raises: progress that cannot be saved (disk full) stays in memory and is saved next time.
        """
        with self._lock:
            if not self._unsaved or (older_than is not None and self._unsaved.age() < older_than):
                return
            rows = self._unsaved.take()
            try:
                with self._transaction() as db:
                    db.executemany(_ADVANCE_SQL, rows)
            except JournalError as exc:
                # kept in memory (and shown by lane()) until a later save succeeds; a crash replays it
                self._unsaved.restore(rows)
                level = logging.DEBUG if self._progress_unsaved else logging.WARNING
                self._progress_unsaved = True
                log.log(level, "flagpipe: could not save lane progress (%s); trying again later", exc)
            else:
                self._progress_unsaved = False

    def record_failure(self, name: str, owner: str, error: str, *, attempts: int, next_attempt_at: float) -> None:
        """Record a failed try and when to try again."""
        self.save_progress()
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
        self.save_progress()
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
        self.save_progress()
        with self._transaction() as db:
            db.execute("UPDATE lanes SET disabled_reason = ? WHERE name = ?", (reason, name))


#: Moves a lane's high-water mark and counts, only while ``owner`` holds its lease.
_ADVANCE_SQL = (
    "UPDATE lanes SET done_seq = MAX(done_seq, ?), delivered = delivered + ?, skipped = skipped + ?,"
    " attempts = 0, next_attempt_at = 0, last_error = NULL WHERE name = ? AND lease_owner = ?"
)


__all__ = ["LaneRecords"]
