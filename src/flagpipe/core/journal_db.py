"""Opening the journal's SQLite file: writable or read-only, checked for damage, and its identity.

A journal that cannot be opened for writing (a read-only file or directory) is opened read-only
(``mode=ro``, then ``immutable=1`` when SQLite cannot create its shared-memory file), unless the
caller needs to write. A file that fails SQLite's quick check, or is not a database at all, raises
:class:`JournalDamagedError` with what to do. The file's identity (device and inode) lets a writer
notice that the journal was deleted or replaced under it.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import quote

from flagpipe.core.journal_records import (
    ADOPT_SQLITE_SEQUENCE_SQL,
    RECOVERY_DOC,
    SCHEMA_SQL,
    JournalDamagedError,
    JournalError,
)

if TYPE_CHECKING:
    from pathlib import Path

FileIdentity = tuple[int, int]

#: Words in SQLite's messages that mean the file is damaged rather than unreachable.
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt", "encrypted")


def file_identity(path: Path) -> FileIdentity | None:
    """The file's device and inode, or None when it does not exist."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino)


def damaged(path: Path, detail: str) -> JournalDamagedError:
    """The error for a damaged journal: which file, what SQLite found, what to do."""
    detail = " ".join(detail.replace("***", "").split())
    return JournalDamagedError(f"the flag journal {path} is damaged ({detail}); {RECOVERY_DOC}")


def is_damage(exc: BaseException) -> bool:
    """True when a SQLite error means the database file is damaged."""
    return isinstance(exc, sqlite3.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


def open_writable(path: Path, *, synchronous: str, busy_timeout: float) -> sqlite3.Connection:
    """Open (creating it if needed) the journal for reading and writing, with its tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; FULL also survives power loss.
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.executescript(SCHEMA_SQL)
        check_integrity(db, path)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            db.execute(ADOPT_SQLITE_SEQUENCE_SQL)
    except BaseException:
        db.close()
        raise
    return db


def open_read_only(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """Open an existing journal read-only: ``mode=ro``, or ``immutable=1`` in a read-only directory."""
    if not path.is_file():
        raise JournalError(f"cannot open the flag journal {path}: it does not exist")
    uri = "file:" + quote(str(path.resolve()))
    last: sqlite3.Error | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        db = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=busy_timeout, check_same_thread=False)
        db.isolation_level = None
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            check_integrity(db, path)
        except sqlite3.OperationalError as exc:
            db.close()
            last = exc
            continue
        except BaseException:
            db.close()
            raise
        return db
    raise JournalError(f"cannot open the flag journal {path} read-only: {last}")


def check_integrity(db: sqlite3.Connection, path: Path) -> None:
    """Raise :class:`JournalDamagedError` unless SQLite's quick check finds the file sound."""
    try:
        rows = db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not is_damage(exc):
            raise
        raise damaged(path, str(exc)) from None
    if rows != [("ok",)]:
        raise damaged(path, "; ".join(str(r[0]) for r in rows))


def is_read_only_error(exc: BaseException) -> bool:
    """True when opening for writing failed only because the file or its directory is read-only."""
    if isinstance(exc, PermissionError):
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text)


__all__ = [
    "FileIdentity",
    "check_integrity",
    "damaged",
    "file_identity",
    "is_damage",
    "is_read_only_error",
    "open_read_only",
    "open_writable",
]
