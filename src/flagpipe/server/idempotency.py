"""Idempotency keys: a request's key maps to one event id, shared by every worker on one flagging dir.

The first request with a key claims an event id for it, with a fingerprint of the request; a retry
finds that id. The Flagger stores an event under the claimed id at most once (the journal's ids are
unique), so a retry after a crash, a timeout or a race completes the same flag or finds it stored, and
stores nothing twice. Once stored, the first answer is kept beside the key, so that a retry gets that
very answer back; a different request sent with a key already used is told so rather than answered
with someone else's flag.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["IDEMPOTENCY_PATH", "Claim", "IdempotencyStore"]

#: Where the keys live, relative to the flagging directory.
IDEMPOTENCY_PATH = ".flagpipe/idempotency.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL,
    key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    fingerprint TEXT,
    answer TEXT,
    PRIMARY KEY (key_id, key)
);
"""

#: Columns added after the first release: a store written by it gains them on open.
_ADDED_COLUMNS = ("fingerprint", "answer")


@dataclass(frozen=True)
class Claim:
    """What a key holds: its event id, the fingerprint of the request that claimed it, the first answer."""

    event_id: str
    fingerprint: str | None
    answer: str | None


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
        present = {row[1] for row in self._db.execute("PRAGMA table_info(idempotency)")}
        for column in _ADDED_COLUMNS:
            if column not in present:
                self._db.execute(f"ALTER TABLE idempotency ADD COLUMN {column} TEXT")

    def claim(self, key_id: str, key: str, candidate: str, fingerprint: str) -> Claim:
        """What ``key`` of API key ``key_id`` holds: ``candidate`` and ``fingerprint`` for a new key."""
        now = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO idempotency (key_id, key, event_id, created_at, fingerprint)"
                " VALUES (?, ?, ?, ?, ?)",
                (key_id, key, candidate, now, fingerprint),
            )
            row = self._db.execute(
                "SELECT event_id, fingerprint, answer FROM idempotency WHERE key_id = ? AND key = ?", (key_id, key)
            ).fetchone()
        return Claim(event_id=str(row[0]), fingerprint=row[1], answer=row[2])

    def keep_answer(self, key_id: str, key: str, answer: str) -> None:
        """Keep the first answer given under ``key``, for its retries (a later answer never replaces it)."""
        with self._lock:
            self._db.execute(
                "UPDATE idempotency SET answer = ? WHERE key_id = ? AND key = ? AND answer IS NULL",
                (answer, key_id, key),
            )

    def forget_older_than(self, age: timedelta) -> int:
        """Drop keys older than ``age`` (the events' retention); return how many."""
        cutoff = (datetime.now(timezone.utc) - age).isoformat()
        with self._lock:
            return self._db.execute("DELETE FROM idempotency WHERE created_at < ?", (cutoff,)).rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
