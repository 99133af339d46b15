"""The ``csv`` callback: a CSV log in the layout of Gradio's flagging guide, safe to open in a spreadsheet.

Layout of ``<dir>/log.csv``: one column per field label, then ``flag`` (the option), ``username``,
``timestamp`` (ISO 8601, UTC), any ``extra_columns``, and ``id`` (the event id). File fields hold
paths relative to the flagging directory. A file's columns never change: events with another field
set go to ``log-2.csv``, ``log-3.csv``, ... (an existing file whose header matches is reused).
"""

from __future__ import annotations

import csv
import errno
import os
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock
from pydantic import Field, field_validator

import flagpipe
from flagpipe.core.cells import encode_row, format_cell, neutralize
from flagpipe.core.columns import csv_columns, names
from flagpipe.core.turns import TURN, let_others_run

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from flagpipe import FlagEvent, FlagSchema
    from flagpipe.core.columns import MetaColumn

#: How many of the newest ids a CSV file remembers to skip replayed events (twice the largest batch).
RECENT_IDS = 20_000

#: The event attributes ``extra_columns`` may add (the extra columns of :mod:`flagpipe.core.columns`).
ExtraColumn = Literal["comment", "session_id", "app", "mode", "metadata"]


class CSVSettings(flagpipe.CallbackSettings):
    """Settings of the ``csv`` callback."""

    file_name: str = Field(default="log.csv", description="The CSV file's name inside the flagging dir.")
    id_column: bool = Field(
        default=True, description="Write the event id as the last column (lets replays skip duplicates)."
    )
    extra_columns: tuple[ExtraColumn, ...] = Field(
        default=(), description="More event attributes to write, after timestamp: comment, session_id, ..."
    )

    @field_validator("file_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or Path(value).name != value or value in (".", "..") or not value.endswith(".csv"):
            raise ValueError(f"file_name must be a plain file name ending in .csv, got {value!r}")
        return value


class CSVCallback(flagpipe.Callback[CSVSettings]):
    """Appends one row per flag to a CSV file; O(1) per row, safe across threads and processes."""

    type_name = "csv"
    Settings = CSVSettings
    #: Rows go to a file in the flagging directory, which ``flag()`` already writes through the journal:
    #: the call guard's hand-over would cost more than the row, and bound nothing the journal does not.
    runs_in_caller = True

    def __init__(self, settings: CSVSettings) -> None:
        super().__init__(settings)
        self._directory: Path | None = None
        self._lock = threading.Lock()
        self._files: dict[tuple[str, ...], _CSVFile] = {}
        #: The file for each field set seen, by field labels (saves building the header per event).
        self._by_labels: dict[tuple[str, ...], _CSVFile] = {}
        self._columns: tuple[MetaColumn, ...] = csv_columns(settings.extra_columns, id_column=settings.id_column)
        #: How each column's cell is made from its attribute (see :meth:`_row`).
        self._plan = tuple((c.attribute, _HOW.get(c.name, _FORMAT)) for c in self._columns)

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Open (or create) the file whose header matches ``schema``, reading the ids it holds afresh."""
        try:
            with self._lock:
                self._close_files()
                self._directory = directory
                self._file_for(self.header(schema.names))
        except OSError as exc:
            raise _classified(exc) from exc

    def header(self, labels: Sequence[str]) -> tuple[str, ...]:
        """The header row for events with these field labels."""
        return (*labels, *names(self._columns, csv=True))

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Append one row per event not already in its file."""
        if self._directory is None:
            raise flagpipe.PermanentError("csv callback used before setup()")
        try:
            with self._lock:
                if len(events) == 1:  # the common case inline: no grouping, no turns to take
                    event = events[0]
                    self._target(event).append_rows([(event.id, self._row(event))])
                    return
                self._deliver(events)
        except OSError as exc:
            raise _classified(exc) from exc

    def _deliver(self, events: Sequence[FlagEvent]) -> None:
        """Write the rows of a batch in short turns: each ``write`` of up to ``TURN`` rows lets other threads run.

        A flag() waiting for the interpreter lock need not wait for the whole batch, and the writes
        are the only pauses: each pause is a chance for a thread switch, which costs as much as a row.
        """
        target: _CSVFile | None = None
        rows: list[tuple[str, list[str]]] = []
        for event in events:
            this = self._target(event)
            if this is not target or len(rows) == TURN:
                if target is not None and not target.append_rows(rows):
                    let_others_run()  # nothing written (rows already there): pause all the same
                target, rows = this, []
            rows.append((event.id, self._row(event)))
        if target is not None:
            target.append_rows(rows)

    def _target(self, event: FlagEvent) -> _CSVFile:
        """The file for ``event``'s field labels."""
        labels = event.field_names()
        this = self._by_labels.get(labels)
        if this is None:
            this = self._by_labels[labels] = self._file_for(self.header(labels))
        return this

    def path_for(self, labels: Sequence[str]) -> Path:
        """The file that events with these field labels go to."""
        with self._lock:
            return self._file_for(self.header(labels)).path

    def _file_for(self, header: tuple[str, ...]) -> _CSVFile:
        existing = self._files.get(header)
        if existing is not None:
            return existing
        assert self._directory is not None
        opened = _CSVFile.open_matching(self._directory, self.settings.file_name, header, self.settings.id_column)
        self._files[header] = opened
        return opened

    def _row(self, event: FlagEvent) -> list[str]:
        cells = [format_cell(f.value if f.file is None else f.file.path) for f in event.fields]
        for attribute, how in self._plan:
            value = getattr(event, attribute)
            cells.append(value if how == _AS_IS else value.isoformat() if how == _TIME else format_cell(value))
        return cells

    def close(self) -> None:
        """Close the open files."""
        with self._lock:
            self._close_files()

    def _close_files(self) -> None:
        for opened in self._files.values():
            opened.close()
        self._files.clear()
        self._by_labels.clear()


#: File system errors that may pass by themselves (space freed, a network disk back): retried.
_TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EINTR, errno.EIO, errno.EBUSY})


def _classified(exc: OSError) -> flagpipe.DeliveryError:
    """A file system error as a retryable or permanent delivery error that says what happened."""
    where = f" ({exc.filename})" if exc.filename else ""
    message = f"cannot write the CSV log{where}: {exc.strerror or exc}"
    if exc.errno in _TRANSIENT_ERRNOS:
        return flagpipe.RetryableError(message)
    return flagpipe.PermanentError(message + "; fix it, then flagpipe retry")


#: How :meth:`CSVCallback._row` makes a column's cell: as it is (the id), ISO 8601 (the time), or formatted.
_AS_IS, _TIME, _FORMAT = 0, 1, 2
_HOW = {"id": _AS_IS, "timestamp": _TIME}


class _CSVFile:
    """One CSV file with a fixed header, appended to with single ``write`` calls in O_APPEND mode."""

    def __init__(self, path: Path, header: tuple[str, ...], ids: RecentIds | None) -> None:
        self.path = path
        self.header = header
        self._ids = ids
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    @classmethod
    def open_matching(cls, directory: Path, file_name: str, header: tuple[str, ...], track_ids: bool) -> _CSVFile:
        """Find the file named like ``file_name`` whose header is ``header``, creating it if none is."""
        directory.mkdir(parents=True, exist_ok=True)
        lock_dir = directory / ".flagpipe"
        lock_dir.mkdir(exist_ok=True)
        wanted = [neutralize(c) for c in header]
        with FileLock(lock_dir / f"{file_name}.lock"):
            for path in _candidates(directory, file_name):
                if not path.exists() or path.stat().st_size == 0:
                    path.write_bytes(encode_row(wanted))
                    return cls(path, header, RecentIds() if track_ids else None)
                if _read_header(path) == wanted:
                    _repair_torn_tail(path)
                    ids = _read_ids(path) if track_ids else None
                    return cls(path, header, ids)
        raise AssertionError("unreachable: the candidates never end")

    def append(self, event_id: str, cells: Sequence[str]) -> None:
        """Append one row, unless the event's id is already in the file."""
        self.append_rows([(event_id, cells)])

    def append_rows(self, rows: Sequence[tuple[str, Sequence[str]]]) -> bool:
        """Append rows (event id, cells), leaving out events whose id is already in the file.

        Whole rows only, up to :data:`~flagpipe.core.turns.TURN` per ``write``: each write lets other
        threads run (a flag() beside a busy lane waits less), and fewer of them mean fewer thread switches.
        Returns True when anything was written.
        """
        ids = self._ids
        chunk: list[bytes] = []
        written_ids: list[str] = []
        wrote = False
        for event_id, cells in rows:
            if ids is not None and (event_id in ids or event_id in written_ids):
                continue
            chunk.append(encode_row(cells))
            written_ids.append(event_id)
            if len(chunk) == TURN:
                self._write(b"".join(chunk), written_ids)
                chunk, written_ids = [], []
                wrote = True
        if chunk:
            self._write(b"".join(chunk) if len(chunk) > 1 else chunk[0], written_ids)
        return bool(chunk) or wrote

    def _write(self, data: bytes, event_ids: list[str]) -> None:
        """Write whole rows with as few ``write`` calls as the system allows; then remember their ids."""
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        ids = self._ids
        if ids is not None:  # only once written: a failed write is retried
            for event_id in event_ids:
                ids.add(event_id)

    def close(self) -> None:
        """Close the file descriptor."""
        os.close(self._fd)


def _candidates(directory: Path, file_name: str) -> Iterator[Path]:
    stem, suffix = Path(file_name).stem, Path(file_name).suffix
    yield directory / file_name
    number = 2
    while True:
        yield directory / f"{stem}-{number}{suffix}"
        number += 1


def _read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _repair_torn_tail(path: Path) -> None:
    """End the file with a newline if a crash cut its last row short, so new rows start clean."""
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            handle.write(b"\n")


class RecentIds:
    """The ids of the newest rows of a file, bounded in memory.

    A replay after a crash re-offers at most one batch (``delivery.batch_size`` is at most 10,000), so
    the ids of the newest rows are all a callback needs to skip duplicates, however long the file is.
    """

    def __init__(self, limit: int = RECENT_IDS) -> None:
        self._order: deque[str] = deque()
        self._members: set[str] = set()
        self._limit = limit

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._members

    def add(self, event_id: str) -> None:
        """Remember ``event_id``, forgetting the oldest one past the limit."""
        if event_id in self._members:
            return
        self._order.append(event_id)
        self._members.add(event_id)
        if len(self._order) > self._limit:
            self._members.discard(self._order.popleft())

    def __len__(self) -> int:
        return len(self._order)


def _read_ids(path: Path) -> RecentIds:
    ids = RecentIds()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if row:
                ids.add(row[-1])
    return ids


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``csv`` callback."""
    return [CSVCallback]
