"""flagpipe-jsonl: the ``jsonl`` callback, one JSON line per flag in a file of the flagging directory.

A sample of a third-party flagpipe plugin: it uses only flagpipe's public API and is found through
its ``flagpipe`` entry point.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flagpipe
from pydantic import Field, field_validator

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["JSONLCallback", "JSONLSettings", "flagpipe_register_callbacks", "read_events"]
__version__ = "0.1.0"

#: Write errors that retrying cannot fix: the file system refuses, or the file cannot grow.
PERMANENT_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EBADF})


class JSONLSettings(flagpipe.CallbackSettings):
    """Settings of the ``jsonl`` callback."""

    file_name: str = Field(
        default="flags.jsonl", description="The file, inside the flagging directory, that flags are appended to."
    )
    fsync: bool = Field(default=False, description="Wait until each batch is on disk (survives power loss; slower).")

    @field_validator("file_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or Path(value).name != value or value in (".", ".."):
            raise ValueError(f"file_name must be a plain file name, got {value!r}")
        return value


class JSONLCallback(flagpipe.Callback[JSONLSettings]):
    """Appends one JSON line per flag (the whole event) to ``file_name``; skips ids already there."""

    type_name = "jsonl"
    Settings = JSONLSettings

    def __init__(self, settings: JSONLSettings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._fd: int | None = None
        self._ids: set[str] = set()

    @property
    def path(self) -> Path | None:
        """The file flags go to (None before ``setup``)."""
        return self._path

    def setup(self, schema: flagpipe.FlagSchema, directory: Path) -> None:
        """Open the file for appending and read the ids it already holds; safe to call again."""
        with self._lock:
            self._close()
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / self.settings.file_name
            try:
                _end_torn_line(path)
                self._ids = {event.id for event in read_events(path)}
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except IsADirectoryError as exc:
                raise flagpipe.PermanentError(f"{path} is a directory; choose another file_name") from exc
            self._path = path

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        """Append the events whose ids are not in the file yet, in order, with one write."""
        with self._lock:
            if self._fd is None or self._path is None:
                raise flagpipe.PermanentError("the jsonl callback was used before setup()")
            fresh, seen = [], set(self._ids)
            for event in events:
                if event.id not in seen:
                    seen.add(event.id)
                    fresh.append(event)
            if not fresh:
                return
            data = "".join(event.model_dump_json() + "\n" for event in fresh).encode("utf-8")
            try:
                while data:
                    data = data[os.write(self._fd, data) :]
                if self.settings.fsync:
                    os.fsync(self._fd)
            except OSError as exc:
                message = f"cannot append to {self._path}: {exc.strerror or exc}"
                if exc.errno in PERMANENT_ERRNOS:
                    raise flagpipe.PermanentError(f"{message}; check the file and its folder") from exc
                raise flagpipe.RetryableError(message) from exc
            self._ids.update(event.id for event in fresh)

    def healthcheck(self) -> str | None:
        """Say which file flags go to."""
        if self._path is None:
            return f"will append to {self.settings.file_name} in the flagging directory"
        return f"appending to {self._path}"

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _end_torn_line(path: Path) -> None:
    """End the file with a newline if a crash cut its last line short, so new lines start clean."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            handle.write(b"\n")


def read_events(path: Path) -> list[flagpipe.FlagEvent]:
    """Read the events of a file written by the ``jsonl`` callback (none when it does not exist).

    A last line cut short by a crash is ignored (the journal offers its event again).
    """
    if not path.exists():
        return []
    events = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                events.append(flagpipe.FlagEvent.model_validate(json.loads(line)))
            except ValueError:
                continue
    return events


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``jsonl`` callback."""
    return [JSONLCallback]
