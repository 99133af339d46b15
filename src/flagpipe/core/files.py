"""Store flagged files in the flagging directory: a folder per field label, content-addressed names.

A file lands at ``<dir>/<label>/<first 20 hex of its sha256>/<original name>``. Both parts are made
safe for every operating system; the same content under the same name is stored once, and nothing
already stored is ever overwritten.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import tempfile
import unicodedata
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING

from pathvalidate import sanitize_filename

from flagpipe.core.event import FileRef

if TYPE_CHECKING:
    from collections.abc import Iterator

_CHUNK = 1024 * 1024
_MAX_COMPONENT = 100


class FileTooLargeError(ValueError):
    """A flagged file is larger than the configured ``max_file_bytes``."""


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

    def __init__(self, directory: Path, *, max_bytes: int, fsync: bool = False) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.fsync = fsync

    def store_path(self, label: str, source: Path, *, original_name: str | None = None) -> FileRef:
        """Copy the file at ``source`` into the label's folder."""
        if not source.is_file():
            problem = "is a directory" if source.is_dir() else "does not exist"
            raise FileNotFoundError(f"field {label!r}: file {str(source)!r} {problem}")
        size = source.stat().st_size
        self._check_size(label, size)
        with source.open("rb") as handle:
            return self._store(label, handle, original_name or source.name)

    def store_bytes(self, label: str, data: bytes, *, original_name: str) -> FileRef:
        """Store raw bytes in the label's folder under ``original_name``."""
        self._check_size(label, len(data))
        return self._store(label, _BytesReader(data), original_name)

    def _check_size(self, label: str, size: int) -> None:
        if size > self.max_bytes:
            raise FileTooLargeError(
                f"field {label!r}: file of {size:,} bytes is larger than max_file_bytes ({self.max_bytes:,})"
            )

    def _store(self, label: str, source: IO[bytes] | _BytesReader, original_name: str) -> FileRef:
        folder = self.directory / safe_component(label, fallback="field")
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
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
            name = safe_component(PurePath(original_name).name, fallback="file")
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
            media_type=guess_media_type(name),
            size=size,
            sha256=sha,
        )


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
