"""The journal: every accepted flag and each callback's delivery progress, in SQLite (WAL mode).

The journal is the source of truth: a flag is accepted once its event is committed here, whatever
happens to its deliveries afterwards. Each callback has a *lane*: a high-water mark (every event up to
``done_seq`` has been delivered, skipped by its ``when`` rule, or dead-lettered), its retry state, and
a lease that lets one process at a time deliver it. Bookkeeping is one row per lane plus one row per
dead letter, whatever the number of events. Several threads and processes may share one journal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from flagpipe.core.event import FlagEvent
from flagpipe.core.journal_commit import GroupCommit
from flagpipe.core.journal_db import (
    damaged,
    file_identity,
    is_damage,
    is_read_only_error,
    open_read_only,
    open_writable,
)
from flagpipe.core.journal_dead import DeadLetters
from flagpipe.core.journal_lanes import LaneRecords
from flagpipe.core.journal_progress import UnsavedProgress
from flagpipe.core.journal_records import (
    NEXT_SEQ_SQL,
    RECOVERY_DOC,
    DeadLetter,
    FlagNotStoredError,
    JournalDamagedError,
    JournalError,
    LaneConflictError,
    LaneState,
    LaneStatus,
    UndecodableEventError,
    new_owner_id,
)
from flagpipe.core.journal_status import JournalStatus
from flagpipe.core.journal_upkeep import UPKEEP_INTERVAL, JournalUpkeep
from flagpipe.core.storable import check_event, freeze_event
from flagpipe.core.turns import TURN, let_others_run

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

#: Where the journal lives, relative to the flagging directory.
JOURNAL_PATH = ".flagpipe/journal.sqlite3"


Durability = Literal["process", "fsync"]

log = logging.getLogger("flagpipe.journal")

#: How many recently appended events a journal keeps in memory for its lanes (few: GC walks them).
_RECENT_EVENTS = 512

#: An event ready to be written: the event, its JSON body and the paths of its files.
_Row = tuple[FlagEvent, str, list[str]]


class Journal(LaneRecords, DeadLetters, JournalStatus):
    """Accepted events, lane progress and dead letters, shared by threads and processes.

    :param read_only: True opens an existing journal read-only; False requires a writable one;
        None (the default, for readers) opens it for writing when it can and read-only otherwise.
    :raises JournalDamagedError: the file is damaged (see the recovery page of the docs).
    :raises JournalError: it cannot be opened for another reason; the message says why.
    """

    def __init__(
        self,
        directory: Path,
        *,
        durability: Durability = "process",
        busy_timeout: float = 30.0,
        read_only: bool | None = None,
    ) -> None:
        self.path = directory / JOURNAL_PATH
        self._lock = threading.RLock()
        self._unsaved = UnsavedProgress()
        self._commit: GroupCommit[_Row] = GroupCommit(self._write_rows)
        self._upkeep: JournalUpkeep | None = None
        self._cache_lock = threading.Lock()
        #: A connection of its own for the lanes' reads, so they never wait for (nor hold up) a flag's commit.
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._synchronous = "FULL" if durability == "fsync" else "NORMAL"
        #: Events this process appended lately, so its lanes need not parse them back from JSON.
        self._recent: OrderedDict[int, FlagEvent] = OrderedDict()
        #: True when the journal was opened read-only (writes raise JournalError).
        self.read_only = bool(read_only)
        try:
            if read_only:
                self._db = open_read_only(self.path, busy_timeout=busy_timeout)
            else:
                self._db = self._open_writable(durability, busy_timeout, fallback=read_only is None)
        except JournalError:
            raise
        except (sqlite3.Error, OSError) as exc:
            if is_damage(exc):
                raise damaged(self.path, str(exc)) from None
            raise JournalError(f"cannot open the flag journal {self.path}: {exc}") from None
        self._identity = file_identity(self.path)
        #: An open handle on the file: its link count drops to 0 when the file is deleted or replaced.
        self._watch = os.open(self.path, os.O_RDONLY)
        self._path_checked_at = time.monotonic()

    def _open_writable(self, durability: Durability, busy_timeout: float, *, fallback: bool) -> sqlite3.Connection:
        synchronous = "FULL" if durability == "fsync" else "NORMAL"
        try:
            return open_writable(self.path, synchronous=synchronous, busy_timeout=busy_timeout)
        except (sqlite3.Error, OSError) as exc:
            if not (fallback and self.path.is_file() and is_read_only_error(exc)):
                raise
        self.read_only = True
        return open_read_only(self.path, busy_timeout=busy_timeout)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error("cannot write to", exc) from None
            try:
                yield self._db
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error("cannot write to", exc) from None
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise self._error("cannot write to", exc) from None

    def _error(self, doing: str, exc: BaseException, cls: type[JournalError] = JournalError) -> JournalError:
        if is_damage(exc):
            return damaged(self.path, str(exc))
        hint = " (it was opened read-only)" if self.read_only else ""
        return cls(f"{doing} the flag journal {self.path}{hint}: {exc}")

    def check_identity(self) -> None:
        """Raise :class:`FlagNotStoredError` when the journal file was deleted or replaced since it was opened.

        Costs one ``fstat`` (the file's link count); the path itself is looked up at most once a second
        (a moved directory).
        """
        now = time.monotonic()
        moved = False
        if now - self._path_checked_at > 1.0:
            self._path_checked_at = now
            moved = file_identity(self.path) != self._identity
        if moved or os.fstat(self._watch).st_nlink == 0:
            raise FlagNotStoredError(
                f"the flag journal {self.path} was deleted or replaced while this process was using it;"
                f" flags stored now would be lost. Restart the process to open the journal afresh; {RECOVERY_DOC}"
            )

    def _decode(self, seq: int, event_id: str, body: str) -> FlagEvent:
        """Parse a stored event (frozen); :class:`UndecodableEventError` when it cannot be read back."""
        try:
            return freeze_event(FlagEvent.model_validate_json(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise UndecodableEventError(
                int(seq), str(event_id), f"{where}: {first['msg']}" if where else first["msg"]
            ) from None

    def _decode_rows(self, rows: Sequence[tuple[int, str, str]]) -> list[tuple[int, FlagEvent]]:
        """Decode rows for readers, leaving out (with a warning) events that cannot be read back."""
        events = []
        for seq, event_id, body in rows:
            try:
                events.append((int(seq), self._decode(seq, event_id, body)))
            except UndecodableEventError as exc:
                log.warning("flagpipe: left out %s", exc)
        return events

    # -- events -------------------------------------------------------------------------------

    def append(self, event: FlagEvent) -> int:
        """Store ``event`` durably and return its sequence number.

        Threads appending at once share one commit (:class:`~flagpipe.core.journal_commit.GroupCommit`);
        each call returns once its own event is committed.

        :raises ValueError: a value could not be read back (nothing is stored).
        :raises FlagNotStoredError: the journal cannot take it (disk full, file gone, closed ...).
        """
        check_event(event)
        try:
            body = event.model_dump_json()
        except PydanticSerializationError as exc:
            raise ValueError(f"the flag cannot be stored: {exc}") from None
        event = freeze_event(event)
        paths = [f.file.path for f in event.fields if f.file is not None]
        seq = self._commit.submit((event, body, paths))
        with self._cache_lock:
            self._recent[seq] = event
            if len(self._recent) > _RECENT_EVENTS:
                self._recent.popitem(last=False)
        return seq

    def _write_rows(self, rows: Sequence[_Row]) -> list[int]:
        """Insert events in one commit (once the file is known to be still there); return their sequence numbers.

        The file's identity is checked here, once per commit rather than once per event: the check is a
        system call, and each lets other threads take the interpreter lock.
        """
        self.check_identity()
        try:
            if len(rows) == 1 and not rows[0][2]:  # one statement: SQLite commits it atomically on its own
                event, body, _ = rows[0]
                with self._lock:
                    cursor = self._db.execute(_INSERT_SQL, (event.id, event.created_at.isoformat(), body))
                assert cursor.lastrowid is not None
                return [cursor.lastrowid]
            if len(rows) <= _MAX_ROWS_PER_STATEMENT and not any(paths for _, _, paths in rows):
                return self._insert_at_once(rows)
            seqs = []
            with self._transaction() as db:
                for event, body, paths in rows:
                    seq = db.execute(_INSERT_SQL, (event.id, event.created_at.isoformat(), body)).lastrowid
                    assert seq is not None
                    seqs.append(seq)
                    if paths:
                        db.executemany("INSERT INTO event_files (seq, path) VALUES (?, ?)", [(seq, p) for p in paths])
            return seqs
        except JournalError as exc:
            raise FlagNotStoredError(f"the flag was not stored: {exc}") from None
        except sqlite3.Error as exc:
            raise self._error("cannot store the flag in", exc, FlagNotStoredError) from None

    def _insert_at_once(self, rows: Sequence[_Row]) -> list[int]:
        """Insert events in one statement, committed on its own: one call into SQLite for the group.

        Each call into SQLite lets other threads run, and each of them may take the interpreter lock
        for a while: one statement instead of ``BEGIN``, an ``INSERT`` per event and ``COMMIT``
        keeps a grouped commit from being interrupted that many times.
        """
        sql = _INSERT_MANY_SQL + ", ".join(f"({NEXT_SEQ_SQL} + {k}, ?, ?, ?)" for k in range(len(rows)))
        params: list[object] = []
        for event, body, _ in rows:
            params += (event.id, event.created_at.isoformat(), body)
        with self._lock:
            seqs = dict(self._db.execute(sql + " RETURNING id, seq", params).fetchall())
        return [int(seqs[event.id]) for event, _, _ in rows]

    @property
    def commit_groups(self) -> tuple[int, int]:
        """How many appends were written in how many commits: ``(events, commits)``, since opening."""
        return self._commit.items, self._commit.groups

    def start_upkeep(self) -> None:
        """Move WAL checkpoints and saving lane progress to a thread of their own (for a flagging process).

        The journal's own connection stops checkpointing inside commits (``wal_autocheckpoint=0``), and
        the lanes read events through a connection of their own; :meth:`close` stops the thread.
        """
        if self._upkeep is not None or self.read_only:
            return
        with self._lock:
            self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._upkeep = JournalUpkeep(
            self.path,
            synchronous=self._synchronous,
            changed=self._total_changes,
            save_progress=lambda: self.save_progress(older_than=UPKEEP_INTERVAL),
        )

    @property
    def upkeep(self) -> JournalUpkeep | None:
        """The upkeep thread, once :meth:`start_upkeep` started it."""
        return self._upkeep

    def _total_changes(self) -> int:
        with self._lock:
            return self._db.total_changes

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
            rows = self._db.execute("SELECT seq, id, body FROM events ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [event for _, event in self._decode_rows(rows[::-1])]

    def get(self, event_id: str) -> FlagEvent | None:
        """The event with ``event_id``, or None."""
        with self._lock:
            row = self._db.execute("SELECT seq, id, body FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else self._decode(*row)

    def seq_of(self, event_id: str) -> int | None:
        """The sequence number of ``event_id``, or None."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else int(row[0])

    def events_after(self, seq: int, limit: int) -> list[tuple[int, FlagEvent]]:
        """Up to ``limit`` events with a sequence number above ``seq``, in order (frozen).

        The list stops before an event that cannot be read back; when that event comes first,
        :class:`UndecodableEventError` says which it is (its lane dead-letters it).

        When this journal appended the next events itself and still holds them, they are returned
        without reading the journal: sequence numbers are given in commit order, so an unbroken run
        from ``seq + 1`` is exactly what is stored there. The run may end before events that other
        threads or processes committed meanwhile; the next call reads those.
        """
        with self._cache_lock:
            recent = self._recent
            run: list[tuple[int, FlagEvent]] = []
            following = seq + 1
            while len(run) < limit:
                event = recent.get(following)
                if event is None:
                    break
                run.append((following, event))
                following += 1
        if run:
            return run
        reader, lock = (self._reader, self._read_lock) if self._reader is not None else (self._db, self._lock)
        with lock:
            rows = reader.execute(
                "SELECT seq, id, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        with self._cache_lock:
            cached = [self._recent.get(s) for s, _, _ in rows]
        items: list[tuple[int, FlagEvent]] = []
        decoded = 0
        for (s, event_id, body), event in zip(rows, cached, strict=True):
            if event is None:
                decoded += 1
                if decoded % TURN == 0:
                    let_others_run()  # parsing is the costly part: a flag() waiting meanwhile goes first
            try:
                items.append((int(s), event if event is not None else self._decode(s, event_id, body)))
            except UndecodableEventError:
                if not items:
                    raise
                break
        return items

    def iter_events(self, batch: int = 1000) -> Iterator[tuple[int, FlagEvent]]:
        """Every event in order, read in batches; events that cannot be read back are left out with a warning."""
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, id, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, batch)
                ).fetchall()
            if not rows:
                return
            yield from self._decode_rows(rows)
            after = int(rows[-1][0])

    def close(self) -> None:
        """Save deferred lane progress, stop the upkeep thread and close the database connection."""
        if self._upkeep is not None:
            self._upkeep.stop()
        if self._reader is not None:
            with self._read_lock:
                self._reader.close()
        with self._lock:
            self.save_progress()  # what cannot be saved now is offered again on the next start
            self._db.close()
            with contextlib.suppress(OSError):
                os.close(self._watch)


_INSERT_SQL = f"INSERT INTO events (seq, id, created_at, body) VALUES ({NEXT_SEQ_SQL}, ?, ?, ?)"  # noqa: S608
_INSERT_MANY_SQL = "INSERT INTO events (seq, id, created_at, body) VALUES "

#: The most events inserted by one statement (three parameters each, well below SQLite's limit).
_MAX_ROWS_PER_STATEMENT = 256


__all__ = [
    "JOURNAL_PATH",
    "DeadLetter",
    "Durability",
    "FlagNotStoredError",
    "Journal",
    "JournalDamagedError",
    "JournalError",
    "LaneConflictError",
    "LaneState",
    "LaneStatus",
    "new_owner_id",
]
