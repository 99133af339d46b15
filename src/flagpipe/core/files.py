"""Store flagged files in the flagging directory: a folder per field label, content-addressed names.

A file lands at ``<dir>/<label>/<first 20 hex of its sha256>/<original name>``. Both parts are made
safe for every operating system; the same content under the same name is stored once, and nothing
already stored is ever overwritten. A store with a ``screen`` (the config's ``redact:`` with a
detector of files) shows it each file while it is still a temporary file, and never stores one the
screen withholds.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING

from pathvalidate import sanitize_filename

from flagpipe.core.event import FileRef

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Shown each file before it is stored: the field's label, the temporary file and its media type;
#: returns what it found (detector name to count), empty to let the file be stored.
Screen = Callable[[str, Path, "str | None"], Mapping[str, int]]

_CHUNK = 1024 * 1024
_MAX_COMPONENT = 100
#: Where a screened store keeps a file until its screen has seen it (beside the journal, not in a
#: label's folder), and how old a file left there by a crash must be before a new store removes it.
SCREENING_FOLDER = Path(".flagpipe") / "screening"
_STALE_SECONDS = 3600.0


class FileTooLargeError(ValueError):
    """A flagged file is larger than the configured ``max_file_bytes``."""


class FileWithheldError(Exception):
    """The store's screen withheld a file: it was not stored. ``found`` maps detector names to counts."""

    def __init__(self, label: str, found: Mapping[str, int]) -> None:
        super().__init__(f"field {label!r}: the file was withheld by redaction ({', '.join(sorted(found))})")
        self.label = label
        self.found = dict(found)


@functools.lru_cache(maxsize=4096)
def safe_component(name: str, *, fallback: str) -> str:
    """Turn a label or file name into one safe path component.

    Separators, ``..``, control characters, characters Windows refuses and reserved device names
    (``CON``, ``NUL``, ...) are replaced; an empty result becomes ``fallback``.
    """
    text = unicodedata.normalize("NFC", name).replace("/", "_").replace("\\", "_")
    cleaned = sanitize_filename(text, replacement_text="_", platform="universal", max_len=_MAX_COMPONENT)
    cleaned = cleaned.strip(" .")
    if cleaned.startswith(("=", "+", "-", "@")):
        cleaned = "_" + cleaned[1:]
    if not cleaned:
        cleaned = fallback
    if cleaned.split(".")[0].upper() in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned


_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def guess_media_type(name: str) -> str | None:
    """Guess a media type from a file name."""
    return mimetypes.guess_type(name, strict=False)[0]


class FileStore:
    """Copies files into a flagging directory and returns :class:`FileRef` records for them."""

    def __init__(self, directory: Path, *, max_bytes: int, fsync: bool = False, screen: Screen | None = None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.fsync = fsync
        self.screen = screen
        _remove_stale(directory / SCREENING_FOLDER)  # also when this config no longer screens

    def store_path(self, label: str, source: Path, *, original_name: str | None = None) -> FileRef:
        """Copy the file at ``source`` into the label's folder.

        :raises FileWithheldError: when the store's screen withholds the file (nothing is stored).
        """
        if not source.is_file():
            problem = "is a directory" if source.is_dir() else "does not exist"
            raise FileNotFoundError(f"field {label!r}: file {str(source)!r} {problem}")
        size = source.stat().st_size
        self._check_size(label, size)
        with source.open("rb") as handle:
            return self._store(label, handle, original_name or source.name)

    def store_bytes(self, label: str, data: bytes, *, original_name: str, media_type: str | None = None) -> FileRef:
        """Store raw bytes in the label's folder under ``original_name``.

        :param media_type: the type the bytes were declared with (an upload's); else guessed from the name.
        :raises FileWithheldError: when the store's screen withholds the file.
        """
        self._check_size(label, len(data))
        return self._store(label, _BytesReader(data), original_name, media_type)

    def check_stored(self, label: str, ref: FileRef) -> None:
        """Check a reference to a file stored earlier that a new flag carries (a chat message's file).

        The reference must name a file this store could have written (not one in a dot folder such
        as the journal's ``.flagpipe``), which exists with the size and SHA-256 it claims; then the
        store's screen sees it as it sees a new file. So a flag sent from outside cannot make a sink
        send the journal, or any other file, that was never flagged.

        :raises ValueError: naming the field, for a reference that matches no stored file.
        :raises FileWithheldError: when the screen withholds the file.
        """
        path = self.directory / ref.path
        problem = None
        if ref.path.split("/")[0].startswith("."):
            problem = "is not in a field's folder"
        elif not path.is_file() or path.is_symlink():
            problem = "is not a stored file"
        elif path.stat().st_size != ref.size or _sha256(path) != ref.sha256:
            problem = "does not have the size and SHA-256 the reference gives"
        if problem is not None:
            raise ValueError(f"field {label!r}: the stored file {ref.path!r} {problem} in the flagging directory")
        if self.screen is not None:
            found = self.screen(label, path, ref.media_type or guess_media_type(path.name))
            if found:
                raise FileWithheldError(label, found)

    def _check_size(self, label: str, size: int) -> None:
        if size > self.max_bytes:
            raise FileTooLargeError(
                f"field {label!r}: file of {size:,} bytes is larger than max_file_bytes ({self.max_bytes:,})"
            )

    def _store(
        self, label: str, source: IO[bytes] | _BytesReader, original_name: str, media_type: str | None = None
    ) -> FileRef:
        folder = self.directory / safe_component(label, fallback="field")
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        name = safe_component(PurePath(original_name).name, fallback="file")
        media_type = media_type or guess_media_type(name)
        incoming = folder
        if self.screen is not None:  # unscreened bytes never sit in a label's folder
            incoming = self.directory / SCREENING_FOLDER
            incoming.mkdir(parents=True, exist_ok=True)
        suffix = PurePath(name).suffix[:16]  # a screen that looks at the suffix sees the real one
        fd, tmp_name = tempfile.mkstemp(dir=incoming, prefix=".incoming-", suffix=suffix)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(source):
                    size += len(chunk)
                    if size > self.max_bytes:
                        self._check_size(label, size)
                    digest.update(chunk)
                    out.write(chunk)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            if self.screen is not None:
                found = self.screen(label, tmp, media_type)
                if found:
                    raise FileWithheldError(label, found)
            target = folder / sha[:20] / name
            target.parent.mkdir(exist_ok=True)
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass  # the same content under the same name is stored already
            except OSError:  # a file system without hard links: rename, still never replacing a file
                if not target.exists():
                    tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return FileRef(
            path=target.relative_to(self.directory).as_posix(),
            original_name=original_name,
            media_type=media_type,
            size=size,
            sha256=sha,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in _chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_stale(folder: Path) -> None:
    """Remove the files a crashed process left in the screening folder (older than an hour)."""
    import time

    if not folder.is_dir():
        return
    cutoff = time.time() - _STALE_SECONDS
    for leftover in folder.glob(".incoming-*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            continue  # another process removed it, or it cannot be: the next start tries again


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def read(self, size: int) -> bytes:
        chunk = self._view[self._offset : self._offset + size]
        self._offset += len(chunk)
        return bytes(chunk)


def _chunks(source: IO[bytes] | _BytesReader) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk
