"""Checking and repairing a journal: what ``flagpipe doctor`` does.

:func:`diagnose` runs SQLite's full integrity check and looks for events that cannot be read back,
lanes no config uses (they hold back purges) and registrations of processes that are gone.
:func:`salvage` rebuilds a damaged journal: it copies every row it can still read into a new file,
keeps the damaged file next to it (``journal.sqlite3.damaged-<time>``), and puts the new one in place.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flagpipe.core.event import FlagEvent
from flagpipe.core.journal import JOURNAL_PATH
from flagpipe.core.journal_db import open_writable
from flagpipe.core.journal_records import RAISE_SEQ_GUARD_SQL, JournalError, owner_is_dead

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

#: The journal's tables and their columns, in the order rows are copied.
TABLES: dict[str, tuple[str, ...]] = {
    "events": ("seq", "id", "created_at", "body"),
    "event_files": ("seq", "path"),
    "lanes": (
        "name",
        "done_seq",
        "delivered",
        "skipped",
        "attempts",
        "next_attempt_at",
        "last_error",
        "last_error_at",
        "disabled_reason",
        "lease_owner",
        "lease_until",
    ),
    "dead_letters": ("lane", "seq", "event_id", "error", "attempts", "failed_at", "requeued"),
    "lane_users": ("lane", "owner", "fingerprint"),
}

#: How many rowids in a row may be unreadable or missing before a damaged table's scan stops.
_MAX_GAP = 100_000


@dataclass
class Diagnosis:
    """What :func:`diagnose` found; ``ok`` when nothing needs doing."""

    path: Path
    problems: list[str] = field(default_factory=list)
    damaged: bool = False
    undecodable: list[tuple[int, str]] = field(default_factory=list)
    unused_lanes: list[str] = field(default_factory=list)
    stale_owners: list[str] = field(default_factory=list)
    live_owners: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the journal is sound and holds nothing that needs an operator."""
        return not (self.problems or self.undecodable or self.unused_lanes)


@dataclass(frozen=True)
class SalvageReport:
    """What :func:`salvage` copied into the new journal, and where the damaged file went."""

    copied: dict[str, int]
    lost_events: int
    damaged_copy: Path


def diagnose(directory: Path, lanes: Sequence[str]) -> Diagnosis:
    """Check the journal of ``directory``; ``lanes`` are the callbacks of the config in use."""
    path = directory / JOURNAL_PATH
    found = Diagnosis(path)
    if not path.is_file():
        found.problems.append(f"{path} does not exist (no flags yet)")
        return found
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        found.problems.append(f"cannot open {path}: {exc}")
        return found
    with contextlib.closing(db):
        try:
            rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            found.damaged = True
            found.problems.extend(f"damaged: {row}" for row in rows)
            return found
        for seq, event_id, body in db.execute("SELECT seq, id, body FROM events ORDER BY seq"):
            try:
                FlagEvent.model_validate_json(body)
            except ValueError:
                found.undecodable.append((int(seq), str(event_id)))
        known = [str(r[0]) for r in db.execute("SELECT name FROM lanes ORDER BY name")]
        found.unused_lanes = [name for name in known if name not in lanes]
        with contextlib.suppress(sqlite3.OperationalError):  # journals written before registrations
            for (owner,) in db.execute("SELECT DISTINCT owner FROM lane_users"):
                (found.stale_owners if owner_is_dead(owner) else found.live_owners).append(str(owner))
    return found


def salvage(directory: Path) -> SalvageReport:
    """Rebuild the damaged journal of ``directory`` from every row still readable.

    Run it only while no process uses the flagging directory. The damaged file is kept beside the
    new journal; events whose pages were lost are reported, and lanes resume after what they had done.
    """
    path = directory / JOURNAL_PATH
    stamp = time.strftime("%Y%m%dT%H%M%S")
    rebuilt = path.with_name(f"{path.name}.rebuilt-{stamp}")
    damaged_copy = path.with_name(f"{path.name}.damaged-{stamp}")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = open_writable(rebuilt, synchronous="FULL", busy_timeout=5.0)
    copied: dict[str, int] = {}
    try:
        for table, columns in TABLES.items():
            copied[table] = _copy_table(source, target, table, columns)
        highest = _highest_seq(source, target)
        target.execute(RAISE_SEQ_GUARD_SQL, (highest,))
        present = int(target.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        lost = max(0, highest - present)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        source.close()
        target.close()
    for suffix in ("", "-wal", "-shm"):
        damaged_file = path.with_name(path.name + suffix)
        if damaged_file.exists():
            damaged_file.replace(damaged_copy.with_name(damaged_copy.name + suffix))
    rebuilt.replace(path)
    for suffix in ("-wal", "-shm"):
        rebuilt.with_name(rebuilt.name + suffix).unlink(missing_ok=True)
    return SalvageReport(copied, lost, damaged_copy)


def _highest_seq(source: sqlite3.Connection, target: sqlite3.Connection) -> int:
    """The highest event number ever used, so a rebuilt journal never reuses one a lane has passed."""
    candidates = [int(target.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])]
    candidates.append(int(target.execute("SELECT COALESCE(MAX(done_seq), 0) FROM lanes").fetchone()[0]))
    candidates.append(int(target.execute("SELECT COALESCE(MAX(seq), 0) FROM dead_letters").fetchone()[0]))
    for sql in ("SELECT seq FROM sqlite_sequence WHERE name = 'events'", "SELECT highest FROM seq_guard"):
        with contextlib.suppress(sqlite3.DatabaseError):  # older journals have only one of them
            row = source.execute(sql).fetchone()
            if row is not None:
                candidates.append(int(row[0]))
    return max(candidates)


def _copy_table(source: sqlite3.Connection, target: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> int:
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    insert = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - fixed names
    count = 0
    target.execute("BEGIN")
    for row in _readable_rows(source, table, names):
        target.execute(insert, row)
        count += 1
    target.execute("COMMIT")
    return count


def _readable_rows(source: sqlite3.Connection, table: str, names: str) -> Iterator[tuple[object, ...]]:
    """Every row of ``table`` still readable: in bulk while that works, then one rowid at a time."""
    after = -(2**63)
    try:
        for row in source.execute(f"SELECT rowid, {names} FROM {table} ORDER BY rowid"):  # noqa: S608
            after = int(row[0])
            yield row[1:]
        return
    except sqlite3.DatabaseError:
        pass
    try:
        highest = source.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]  # noqa: S608
    except sqlite3.DatabaseError:
        highest = None
    rowid, gap = max(after, 0) + 1, 0
    while gap < _MAX_GAP and (highest is None or rowid <= highest):
        try:
            row = source.execute(f"SELECT {names} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()  # noqa: S608
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            gap += 1
        else:
            gap = 0
            yield row
        rowid += 1


def forget_lanes(directory: Path, names: Sequence[str]) -> list[str]:
    """Drop lanes no config uses any more (they hold back purges); return those that existed."""
    from flagpipe.core.journal import Journal

    journal = Journal(directory)
    try:
        return [name for name in names if journal.forget_lane(name)]
    finally:
        journal.close()


def clear_stale_owners(directory: Path, owners: Sequence[str]) -> None:
    """Remove lane registrations of processes that are gone."""
    path = directory / JOURNAL_PATH
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db, db:
        db.executemany("DELETE FROM lane_users WHERE owner = ?", [(o,) for o in owners])


def require_idle(found: Diagnosis) -> None:
    """Refuse to rebuild a journal that a running process still uses."""
    if found.live_owners:
        raise JournalError(
            f"{found.path} is in use by {', '.join(found.live_owners)}; stop those processes before repairing it"
        )


__all__ = ["Diagnosis", "SalvageReport", "clear_stale_owners", "diagnose", "forget_lanes", "require_idle", "salvage"]
