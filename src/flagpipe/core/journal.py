"""The journal: every accepted flag, kept in SQLite (WAL mode) under the flagging directory.

The journal is the source of truth: a flag is accepted once its event is committed here, whatever
happens to its deliveries afterwards. Several threads and processes may share one journal.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING, Literal

from flagpipe.core.event import FlagEvent

if TYPE_CHECKING:
    from pathlib import Path

#: Where the journal lives, relative to the flagging directory.
JOURNAL_PATH = ".flagpipe/journal.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
"""

Durability = Literal["crash", "fsync"]


class Journal:
    """An append-only store of accepted events, ordered by ``seq``."""

    def __init__(self, directory: Path, *, durability: Durability = "crash") -> None:
        self.path = directory / JOURNAL_PATH
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; FULL also survives power loss.
        self._db.execute(f"PRAGMA synchronous={'FULL' if durability == 'fsync' else 'NORMAL'}")
        self._db.executescript(_SCHEMA)

    def append(self, event: FlagEvent) -> int:
        """Store ``event`` durably and return its sequence number."""
        body = event.model_dump_json()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (id, created_at, body) VALUES (?, ?, ?)",
                (event.id, event.created_at.isoformat(), body),
            )
        seq = cursor.lastrowid
        assert seq is not None
        return seq

    def count(self) -> int:
        """Return how many events the journal holds."""
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(total)

    def latest(self, limit: int) -> list[FlagEvent]:
        """Return the newest ``limit`` events, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [FlagEvent.model_validate_json(body) for (body,) in reversed(rows)]

    def get(self, event_id: str) -> FlagEvent | None:
        """Return the event with ``event_id``, or None."""
        with self._lock:
            row = self._db.execute("SELECT body FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else FlagEvent.model_validate_json(row[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
