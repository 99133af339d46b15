"""``flagpipe export``: write the journal's flags to CSV, JSONL or Parquet, streaming in batches.

- ``csv``: flagpipe's CSV layout (the csv callback's, with every extra column): the fields, ``flag``,
  ``username``, ``timestamp``, ``comment``, ``session_id``, ``app``, ``mode``, ``metadata`` (JSON),
  ``id``; cells that a spreadsheet could run as formulas are prefixed with ``'``; file fields are
  absolute paths.
- ``jsonl``: one flat JSON object per flag: the fields, ``option``, ``username``, ``comment``,
  ``timestamp``, ``id``, ``mode``, ``session_id``, ``app`` and ``metadata`` (an object).
- ``parquet``: the columns of :func:`flagpipe.read_flags` with their types (``metadata.*``
  flattened, JSON values as JSON text); the file's ``flagpipe`` metadata records each column's kind so
  ``read_flags`` restores them. With ``embed_files`` a file column is a ``struct<bytes, path>`` (the
  layout Hugging Face ``datasets`` uses for images and audio).

CSV and Parquet need every column before the first row, so they read the journal twice (once to
collect the columns, once to write); JSONL reads it once. Every pass reads ``batch`` events at a time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from flagpipe.data.export_target import check_export_target
from flagpipe.data.flagpipe_csv import write_csv
from flagpipe.data.frame import Layout
from flagpipe.data.jsonl import write_jsonl
from flagpipe.data.parquet import write_parquet
from flagpipe.data.records import RecordFilter, SourceError, record_from_event

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from flagpipe.core.journal import Journal
    from flagpipe.data.records import FlagRecord

#: An export's file format.
ExportFormat = Literal["csv", "jsonl", "parquet"]
#: Every export format.
FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "parquet")


class Progress(Protocol):
    """Told how far an export is: a phase with its total, then steps."""

    def start(self, description: str, total: int) -> None:
        """A new phase begins (``total`` events at most)."""

    def advance(self, steps: int) -> None:
        """``steps`` more events were read."""


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    path: Path
    format: ExportFormat
    count: int


class _NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass


def _records(
    journal: Journal, directory: Path, keep: RecordFilter, batch: int, progress: Progress, phase: str
) -> Iterator[FlagRecord]:
    progress.start(phase, journal.count())
    done = 0
    for done, (_, event) in enumerate(journal.iter_events(batch), 1):
        if done % batch == 0:
            progress.advance(batch)
        if keep(event.created_at, event.option):
            yield record_from_event(event, directory)
    progress.advance(done % batch)


def export_flags(
    directory: Path,
    out: str | os.PathLike[str],
    format: ExportFormat,
    *,
    since: datetime | str | None = None,
    options: Sequence[str | None] | None = None,
    embed_files: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
    protected: Sequence[Path] = (),
) -> ExportReport:
    """Export the flags of the flagging directory ``directory`` to ``out`` (see the module docs).

    The file is written next to ``out`` under a temporary name, flushed to disk and renamed into
    place when complete: a reader sees the old file or the whole new one, never a part.

    :param protected: more files never to overwrite (a callback's files, :func:`sink_files`).
    :raises ValueError: when ``out`` is the journal, a file of the flagging directory or a protected file.
    """
    from flagpipe.core.journal import JOURNAL_PATH, Journal

    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    if embed_files and format != "parquet":
        raise ValueError("embed_files works only with the parquet format")
    if not (directory / JOURNAL_PATH).is_file():
        raise SourceError(f"no flags in {directory}: {directory / JOURNAL_PATH} does not exist")
    keep = RecordFilter(since, options)
    progress = progress or _NoProgress()
    target = check_export_target(Path(out), directory, protected)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    journal = Journal(directory)
    try:
        if format == "jsonl":
            count = write_jsonl(_records(journal, directory, keep, batch, progress, "exporting"), partial)
        else:
            layout = Layout()
            for record in _records(journal, directory, keep, batch, progress, "reading columns"):
                layout.observe(record)
            records = _records(journal, directory, keep, batch, progress, "exporting")
            if format == "csv":
                count = write_csv(records, layout, partial)
            else:
                count = write_parquet(records, layout, partial, embed_files=embed_files, batch=batch)
        _sync(partial)
        partial.replace(target)
    finally:
        journal.close()
        partial.unlink(missing_ok=True)
    return ExportReport(Path(out), format, count)


def _sync(path: Path) -> None:
    """Flush a written file to disk (so the rename never exposes a file whose data is not there yet),
    with the permissions a new file gets (a temporary file starts private)."""
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
