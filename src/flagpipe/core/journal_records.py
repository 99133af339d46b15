"""The journal's tables, and what it returns: lane states, status rows, dead letters, lease owners."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

#: The journal's tables: events, one row per lane, dead letters.
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_files (
    seq INTEGER NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_files_path ON event_files (path);
CREATE INDEX IF NOT EXISTS event_files_seq ON event_files (seq);
CREATE TABLE IF NOT EXISTS lanes (
    name TEXT PRIMARY KEY,
    done_seq INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at REAL,
    disabled_reason TEXT,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letters (
    lane TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL,
    requeued INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (lane, seq)
);
CREATE TABLE IF NOT EXISTS lane_users (
    lane TEXT NOT NULL,
    owner TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (lane, owner)
);
CREATE TABLE IF NOT EXISTS seq_guard (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    highest INTEGER NOT NULL
);
"""

#: The next event number: above every number the journal ever gave. ``events.seq`` has no
#: ``AUTOINCREMENT`` (whose ``sqlite_sequence`` row is one more page written per commit): the
#: highest number of purged or lost events is kept in ``seq_guard`` instead, so a number a lane has
#: passed is never given again. A constant subquery, so a multi-row ``VALUES`` adds ``+ 0``, ``+ 1`` ...
NEXT_SEQ_SQL = "(SELECT max(ifnull((SELECT max(seq) FROM events), 0), ifnull((SELECT highest FROM seq_guard), 0)) + 1)"

#: Raise the guard to at least ``?`` (the highest number that may be gone from ``events``).
RAISE_SEQ_GUARD_SQL = (
    "INSERT INTO seq_guard (id, highest) VALUES (1, ?)"
    " ON CONFLICT (id) DO UPDATE SET highest = max(highest, excluded.highest)"
)

#: Journals written before ``seq_guard`` count with ``AUTOINCREMENT``: carry its number over.
ADOPT_SQLITE_SEQUENCE_SQL = (
    "INSERT INTO seq_guard (id, highest) SELECT 1, seq FROM sqlite_sequence"
    " WHERE name = 'events' AND seq > ifnull((SELECT highest FROM seq_guard), 0)"
    " ON CONFLICT (id) DO UPDATE SET highest = max(highest, excluded.highest)"
)


#: File paths that staged events refer to and no other event does.
ORPHANED_FILES_SQL = (
    "SELECT DISTINCT path FROM event_files WHERE seq IN (SELECT seq FROM staged_seqs)"
    " AND path NOT IN (SELECT path FROM event_files WHERE seq NOT IN (SELECT seq FROM staged_seqs))"
)


#: Where the recovery steps are documented, for error messages.
RECOVERY_DOC = "run `flagpipe doctor` and see the recovery page of the docs (docs/recovery.md)"


class JournalError(RuntimeError):
    """The journal cannot be opened or written: the message says which file and why."""


class FlagNotStoredError(JournalError):
    """``flag()`` could not store the flag (disk full, journal gone, Flagger closed): nothing was kept.

    Raised only before the journal has the event, so retrying the call cannot make a duplicate.
    """


class JournalDamagedError(JournalError):
    """The journal file is damaged (failed its integrity check, or is not a journal at all)."""


class LaneConflictError(JournalError):
    """Two configs use one callback name with different settings on one journal."""


class UndecodableEventError(JournalError):
    """A stored event cannot be read back; its lane dead-letters it and goes on."""

    def __init__(self, seq: int, event_id: str, error: str) -> None:
        super().__init__(f"event {event_id} (#{seq}) cannot be read back: {error}")
        self.seq = seq
        self.event_id = event_id
        self.error = error


@dataclass(frozen=True)
class LaneState:
    """One lane's persisted progress."""

    name: str
    done_seq: int
    delivered: int
    skipped: int
    attempts: int
    next_attempt_at: float
    last_error: str | None
    last_error_at: float | None
    disabled_reason: str | None
    lease_owner: str | None
    lease_until: float
    has_requeued: bool = False


@dataclass(frozen=True)
class LaneStatus:
    """What ``flagpipe status`` shows for one lane."""

    name: str
    delivered: int
    skipped: int
    pending: int
    dead: int
    oldest_pending_at: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None
    disabled_reason: str | None
    lease_owner: str | None


@dataclass(frozen=True)
class DeadLetter:
    """An event a lane gave up on."""

    lane: str
    seq: int
    event_id: str
    error: str
    attempts: int
    failed_at: float
    requeued: bool


def new_owner_id() -> str:
    """An id for this process's leases: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def owner_is_dead(owner: str | None) -> bool:
    """True when the lease owner is a process on this host that no longer runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


__all__ = [
    "ADOPT_SQLITE_SEQUENCE_SQL",
    "NEXT_SEQ_SQL",
    "ORPHANED_FILES_SQL",
    "RAISE_SEQ_GUARD_SQL",
    "RECOVERY_DOC",
    "SCHEMA_SQL",
    "DeadLetter",
    "FlagNotStoredError",
    "JournalDamagedError",
    "JournalError",
    "LaneConflictError",
    "LaneState",
    "LaneStatus",
    "UndecodableEventError",
    "new_owner_id",
    "owner_is_dead",
]
