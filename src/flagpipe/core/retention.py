"""Retention: remove old events that every callback has handled, and the files only they used."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe.core.journal import Journal

log = logging.getLogger("flagpipe.retention")


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    events: int
    files: tuple[str, ...]
    dry_run: bool


def purge(
    journal: Journal,
    directory: Path,
    *,
    older_than: timedelta,
    lanes: Sequence[str],
    dry_run: bool = False,
    remove_files: bool = False,
) -> PurgeReport:
    """Remove events older than ``older_than`` that every lane has handled and none holds as dead.

    Every lane recorded in the journal counts, whichever config made it, besides ``lanes`` (the
    caller's chain): an event another config's callback has not delivered yet is kept.

    With ``remove_files``, the files only those events used are deleted too; a file stays while any
    remaining event refers to it, so files of events still pending anywhere are never removed. Files
    are kept by default because sinks (the CSV log) go on referring to them.
    """
    cutoff = (datetime.now(timezone.utc) - older_than).isoformat()
    candidates = journal.purgeable(cutoff, lanes)
    seqs = [seq for seq, _ in candidates]
    if dry_run or not seqs:
        files = journal.purge(seqs, dry_run=True) if seqs and remove_files else []
        return PurgeReport(len(seqs), tuple(files), dry_run=dry_run)
    orphaned = journal.purge(seqs)
    files = orphaned if remove_files else []
    for relative in files:
        path = directory / relative
        try:
            path.unlink(missing_ok=True)
            for parent in (path.parent, path.parent.parent):
                if parent != directory and not any(parent.iterdir()):
                    parent.rmdir()
        except OSError as exc:
            log.warning("flagpipe: could not remove %s: %s", path, exc)
    return PurgeReport(len(seqs), tuple(files), dry_run=False)


def parse_age(text: str) -> timedelta:
    """Parse an age such as ``30d``, ``12h``, ``45m``, ``90s`` or ``2w``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    value = text.strip().lower()
    if len(value) < 2 or value[-1] not in units:
        raise ValueError(f"age {text!r}: expected a number and a unit s, m, h, d or w (e.g. 30d)")
    try:
        number = float(value[:-1])
    except ValueError:
        raise ValueError(f"age {text!r}: {value[:-1]!r} is not a number") from None
    if number < 0:
        raise ValueError(f"age {text!r} must not be negative")
    return timedelta(seconds=number * units[value[-1]])
