"""Where the files of flags go, by the ``files:`` setting.

Replicas do not share a disk, so a path alone helps only when the database and the flagging dir are
on one host:

- ``reference``: the row holds the file's relative path and sha256 only.
- ``inline``: the bytes go into ``<prefix>blobs``, one row per sha256 (so a file flagged twice is
  stored once), up to ``inline_max_bytes``; a larger file is kept as a reference.
- an fsspec URL (``s3://bucket/flags/``, ``gs://...``, ``file:///srv/flags/``): the file is uploaded
  to ``<url>/<sha256[:2]>/<sha256><suffix>`` before the row commits; one already there is not sent again.

Every field's ``file`` object in the row keeps name, kind, size, sha256 and media type, plus
``storage`` (which of the three) and ``location`` (the uploaded file's URL).
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import flagpipe

if TYPE_CHECKING:
    from flagpipe import FieldValue, FileRef

log = logging.getLogger("flagpipe.sql")


class FilePlacer:
    """Places the files of one batch by the ``files:`` setting, collecting blobs for the transaction."""

    def __init__(self, mode: str, directory: Path, inline_max_bytes: int) -> None:
        self.mode = mode
        self.directory = directory
        self.inline_max_bytes = inline_max_bytes
        self.blobs: dict[str, dict[str, Any]] = {}
        self._fs: Any = None
        self._root = ""

    def field_json(self, field: FieldValue) -> dict[str, Any]:
        """The JSON of one field for the ``fields`` column, its file placed where the setting says."""
        data = field.model_dump(mode="json")
        if field.file is not None:
            storage, location = self._place(field.file)
            data["file"] = {**data["file"], "storage": storage, "location": location}
        return data

    def _read(self, ref: FileRef) -> bytes:
        path = self.directory / ref.path
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise flagpipe.PermanentError(
                f"the file {ref.path} of a flag is missing from the flagging dir {self.directory}"
            ) from None

    def _place(self, ref: FileRef) -> tuple[str, str | None]:
        if self.mode == "reference":
            return "reference", None
        if self.mode == "inline":
            if ref.size > self.inline_max_bytes:
                log.warning("flagpipe: %s is larger than inline_max_bytes; stored as a reference", ref.path)
                return "reference", None
            if ref.sha256 not in self.blobs:
                content = self._read(ref)
                self.blobs[ref.sha256] = {
                    "sha256": ref.sha256,
                    "size": len(content),
                    "content_type": ref.media_type,
                    "content": content,
                }
            return "inline", None
        return "url", self._upload(ref)

    def _upload(self, ref: FileRef) -> str:
        fs, root = self._filesystem()
        name = f"{ref.sha256}{PurePosixPath(ref.path).suffix}"
        target = f"{root}/{ref.sha256[:2]}/{name}"
        try:
            if not (fs.exists(target) and fs.size(target) == ref.size):
                fs.makedirs(f"{root}/{ref.sha256[:2]}", exist_ok=True)
                partial = f"{target}.part"
                fs.pipe_file(partial, self._read(ref))
                fs.mv(partial, target)
        except flagpipe.DeliveryError:
            raise
        except (OSError, TimeoutError) as exc:
            raise flagpipe.RetryableError(f"cannot upload {ref.path} to {self.mode}: {exc}") from exc
        return f"{self.mode.rstrip('/')}/{ref.sha256[:2]}/{name}"

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            try:
                import fsspec
            except ImportError:
                raise flagpipe.DestinationDisabledError(
                    f"files: {self.mode} needs fsspec (and its driver for the URL): pip install 'flagpipe[sql]'"
                ) from None
            try:
                fs, root = fsspec.core.url_to_fs(self.mode)
            except (ImportError, ValueError) as exc:
                raise flagpipe.DestinationDisabledError(f"files: cannot open {self.mode}: {exc}") from None
            self._fs, self._root = fs, str(root).rstrip("/")
        return self._fs, self._root


def open_file(location: str) -> bytes:
    """Read back a file uploaded by the ``files: <URL>`` mode (its ``location``)."""
    import fsspec

    with fsspec.open(location, "rb") as handle:
        data: bytes = handle.read()
    return data


__all__ = ["FilePlacer", "open_file"]
