"""Where an export may be written: never over the journal, the flagging directory's files or a sink's file.

An export is renamed into place, so writing one "over" the journal or ``log.csv`` would replace
flags with a copy (or lose those flagged meanwhile). :func:`check_export_target` refuses, after
resolving symbolic links, any target that is or would replace:

- anything in the flagging directory's ``.flagpipe`` folder (the journal, its WAL and locks);
- any file that already exists inside the flagging directory (the csv callback's ``log.csv``,
  the flag files, a relative SQLite database);
- a file a callback writes outside it (:func:`sink_files`: a SQLite database by absolute path,
  with its ``-wal``, ``-shm`` and ``-journal`` companions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flagpipe.config.loader import LoadedConfig

__all__ = ["check_export_target", "sink_files"]

_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _sqlite_file(value: str, directory: Path) -> Path | None:
    head, sep, rest = value.partition(":///")
    if not sep or not head.startswith("sqlite") or not rest or rest.startswith(":memory:"):
        return None
    path = Path(rest.split("?", 1)[0])
    return path if path.is_absolute() else directory / path


def sink_files(loaded: LoadedConfig) -> list[Path]:
    """Files the config's callbacks write outside the flagging directory (SQLite databases, by URL)."""
    found: list[Path] = []
    for entry in loaded.chain:
        for value in dict(entry.settings).values():
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(text, str):
                database = _sqlite_file(text, loaded.directory)
                if database is not None:
                    found.extend(database.with_name(database.name + s) for s in _SQLITE_COMPANIONS)
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a == b or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_export_target(target: Path, directory: Path | None, protected: Iterable[Path] = ()) -> Path:
    """The resolved path to write ``target`` to; refuse one that would replace flagpipe's own files.

    :param directory: the flagging directory (None for a source without one, such as a database).
    :raises ValueError: naming the target and what it would overwrite.
    """
    real = target.resolve()
    if real.is_dir():
        raise ValueError(f"cannot export to {target}: it is a folder")
    for path in protected:
        if _same(real, path.resolve()):
            raise ValueError(f"refusing to export to {target}: it would overwrite {path}, a callback's file")
    if directory is None:
        return real
    home = directory.resolve()
    if real.is_relative_to(home / ".flagpipe"):
        raise ValueError(f"refusing to export to {target}: it is flagpipe's journal folder ({home / '.flagpipe'})")
    if real.is_relative_to(home) and real.exists():
        raise ValueError(f"refusing to export to {target}: it would overwrite {real}, a file of the flagging directory")
    if real.exists() and any(_same(real, p) for p in (home / ".flagpipe").glob("*")):
        raise ValueError(f"refusing to export to {target}: it is the same file as the journal")
    return real
