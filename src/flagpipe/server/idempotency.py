"""Idempotency keys: a request's key maps to one event id, shared by every worker on one flagging dir.

The first request with a key claims an event id for it; a retry finds that id. The Flagger stores an
event under the claimed id at most once (the journal's ids are unique), so a retry after a crash,
a timeout or a race completes the same flag or finds it stored, and stores nothing twice.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["IDEMPOTENCY_PATH", "IdempotencyStore"]

#: Where the keys live, relative to the flagging directory.
IDEMPOTENCY_PATH = ".flagpipe/idempotency.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL,
    key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, key)
);
"""


class IdempotencyStore:
    """Idempotency keys per API key, in SQLite (WAL mode) beside the journal."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / IDEMPOTENCY_PATH
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def claim(self, key_id: str, key: str, candidate: str) -> str:
        """The event id for ``key`` of API key ``key_id``: ``candidate`` for a new key, else the first one's."""
        now = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO idempotency (key_id, key, event_id, created_at) VALUES (?, ?, ?, ?)",
                (key_id, key, candidate, now),
            )
            row = self._db.execute(
                "SELECT event_id FROM idempotency WHERE key_id = ? AND key = ?", (key_id, key)
            ).fetchone()
        return str(row[0])

    def forget_older_than(self, age: timedelta) -> int:
        """Drop keys older than ``age`` (the events' retention); return how many."""
        cutoff = (datetime.now(timezone.utc) - age).isoformat()
        with self._lock:
            return self._db.execute("DELETE FROM idempotency WHERE created_at < ?", (cutoff,)).rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
