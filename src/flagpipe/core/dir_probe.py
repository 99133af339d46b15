"""Will flagging work in this directory? The checks ``flagpipe check`` makes before ``flag`` would fail.

:func:`directory_problem` looks for what stops a Flagger from keeping flags in a directory: the path
(or a folder on the way to it, or the journal's folder) is a file or a device, the nearest folder
that exists cannot be written (read-only, ``/proc``, permissions), or the journal exists but cannot
be opened for writing. Writing is tried for real, with a temporary folder removed at once, so
permissions, read-only mounts and pseudo file systems all answer as they would to ``flag``.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["directory_problem"]

#: Where the journal lives inside a flagging directory (as :data:`flagpipe.core.journal.JOURNAL_PATH`).
_JOURNAL = Path(".flagpipe") / "journal.sqlite3"


def _kind(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "a pipe or socket"
    return "a file"


def _writable(folder: Path) -> str | None:
    try:
        Path(tempfile.mkdtemp(prefix=".flagpipe-check-", dir=folder)).rmdir()
    except OSError as exc:
        return f"cannot write in {folder}: {exc.strerror or exc}"
    return None


def directory_problem(directory: str | os.PathLike[str]) -> str | None:
    """What would stop flags from being kept in ``directory``, or None when flagging can work there."""
    path = Path(directory)
    for folder in (path / _JOURNAL.parent, path):
        if folder.exists() and not folder.is_dir():
            return f"{folder} is {_kind(folder)}, not a folder"
    existing = path
    while not existing.exists():
        if existing.is_symlink():
            return f"{existing} is a broken symbolic link"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is {_kind(existing)}, not a folder, so {path} cannot be made"
    probe = path / _JOURNAL.parent if (path / _JOURNAL.parent).is_dir() else existing
    return _writable(probe) or _journal_problem(path / _JOURNAL)


def _journal_problem(journal: Path) -> str | None:
    if not journal.exists():
        return None
    if not journal.is_file():
        return f"{journal} is {_kind(journal)}, not a journal file"
    try:
        with journal.open("r+b"):
            pass
    except OSError as exc:
        return f"cannot open the journal {journal} for writing: {exc.strerror or exc}"
    return None
