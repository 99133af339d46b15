"""The dataset's storage: an fsspec file system at a root, with whole-object writes.

Every object is written in one go: one PUT on object stores (S3, GCS, Azure), where an object is
visible only once complete; on a local or mounted folder, a temporary file in the same folder that
is then renamed over the final name. Listings skip fsspec's cache, so a replay sees what another
attempt wrote. fsspec is imported when a :class:`Store` is opened, never before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from fsspec import AbstractFileSystem

#: Protocols whose files are written to a temporary name and then renamed.
RENAMING_PROTOCOLS = frozenset({"file", "local"})
#: Protocols whose first path part is a bucket or container.
BUCKET_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "r2"})


def resolve_url(url: str, directory: Path | None) -> str:
    """``url`` as fsspec reads it: a relative folder is taken inside the flagging ``directory``."""
    if "://" in url or url.startswith("/") or directory is None:
        return url
    return str(directory / url)


class Store:
    """The file system and root folder of one dataset URL."""

    def __init__(
        self, url: str, storage_options: Mapping[str, Any] | None = None, directory: Path | None = None
    ) -> None:
        """Open the file system of ``url`` (nothing is read or written yet)."""
        from fsspec.core import url_to_fs

        self.url = resolve_url(url, directory)
        options = dict(storage_options or {})
        self.fs: AbstractFileSystem
        self.fs, root = url_to_fs(self.url, **options)
        self.root = root.rstrip("/") or "/"
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.protocol = protocols[0]
        self.renames = bool(RENAMING_PROTOCOLS & set(protocols))
        self.bucket = self.root.split("/")[0] if BUCKET_PROTOCOLS & set(protocols) else None

    @property
    def where(self) -> str:
        """How messages name the place: ``bucket 'flags' (s3://flags/team)`` or the folder."""
        if self.bucket is not None:
            return f"bucket {self.bucket!r} ({self.protocol}://{self.root})"
        return f"folder {self.root}"

    def path(self, *parts: str) -> str:
        """The full path of ``parts`` (joined with ``/``) under the root."""
        tail = "/".join(p.strip("/") for p in parts if p.strip("/"))
        return f"{self.root.rstrip('/')}/{tail}" if tail else self.root

    def put(self, path: str, data: bytes) -> None:
        """Write the whole object ``path`` at once, replacing any object of that name."""
        if self.renames:
            folder = path.rsplit("/", 1)[0]
            self.fs.makedirs(folder, exist_ok=True)
            scratch = f"{folder}/.{path.rsplit('/', 1)[-1]}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
            with Path(scratch).open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(scratch).replace(path)
            return
        self.fs.pipe_file(path, data)

    def put_missing(self, files: Mapping[str, bytes]) -> int:
        """Write the files (named by their content) that are not stored yet; return how many were written."""
        written = 0
        for path, data in files.items():
            if not self.exists(path):
                self.put(path, data)
                written += 1
        return written

    def exists(self, path: str) -> bool:
        """True when the object ``path`` exists."""
        self.fs.invalidate_cache(path)
        return bool(self.fs.exists(path))

    def read(self, path: str) -> bytes:
        """The bytes of the object ``path``."""
        data: bytes = self.fs.cat_file(path)
        return data

    def _entries(self, folder: str) -> list[dict[str, Any]]:
        """The entries directly in ``folder`` (none when it does not exist), read afresh."""
        self.fs.invalidate_cache(folder)
        try:
            found: list[dict[str, Any]] = self.fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        return found

    def names(self, folder: str) -> list[str]:
        """The full paths of the objects directly in ``folder`` (none when it does not exist)."""
        return sorted(str(e["name"]) for e in self._entries(folder) if e.get("type") == "file")

    def sizes(self, folder: str) -> dict[str, int]:
        """The size of each object directly in ``folder``, by full path."""
        return {str(e["name"]): int(e.get("size") or 0) for e in self._entries(folder) if e.get("type") == "file"}

    def find(self, folder: str) -> list[str]:
        """The full paths of every object under ``folder``, at any depth."""
        self.fs.invalidate_cache(folder)
        try:
            return sorted(str(p) for p in self.fs.find(folder))
        except FileNotFoundError:
            return []

    def folders(self, folder: str) -> list[str]:
        """The full paths of the folders directly in ``folder``."""
        return sorted(str(e["name"]).rstrip("/") for e in self._entries(folder) if e.get("type") == "directory")

    def delete(self, paths: Iterable[str]) -> None:
        """Remove the objects ``paths`` (one that is already gone is fine)."""
        for path in paths:
            try:
                self.fs.rm_file(path)
            except FileNotFoundError:
                continue

    def check_root(self, *, create: bool = True) -> None:
        """Make sure the root is reachable: the bucket exists and may be listed (a local folder is made).

        :param create: make a missing local folder (readers pass False).
        """
        if self.renames:
            if create:
                self.fs.makedirs(self.root, exist_ok=True)
            return
        self.fs.invalidate_cache(self.root)
        if self.bucket is not None:
            self.fs.ls(self.bucket)  # a missing bucket or missing rights fail here, with the store's error code


__all__ = ["Store", "resolve_url"]
