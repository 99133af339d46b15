"""``flagpipe export``: write flags to CSV, JSONL or Parquet, streaming in batches.

The flags come from a flagging directory's journal or from any :class:`flagpipe.FlagSource` (a
database a plugin reads, for ``flagpipe export --from URL``).

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

CSV and Parquet need every column before the first row, so they read the source twice (once to
collect the columns, once to write); JSONL reads it once. Every pass streams the events.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from flagpipe.core.sources import FlagSource
from flagpipe.data.export_target import check_export_target
from flagpipe.data.flagpipe_csv import write_csv
from flagpipe.data.frame import Layout
from flagpipe.data.jsonl import write_jsonl
from flagpipe.data.parquet import write_parquet
from flagpipe.data.records import RecordFilter, record_from_event
from flagpipe.data.sources import JournalSource

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from flagpipe.core.sources import FlagFilter
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
    source: FlagSource, wanted: FlagFilter, total: int, batch: int, progress: Progress, phase: str
) -> Iterator[FlagRecord]:
    progress.start(phase, total)
    done = 0
    for done, event in enumerate(source.events(wanted), 1):
        if done % batch == 0:
            progress.advance(batch)
        yield record_from_event(event, source.directory)
    progress.advance(done % batch)


def export_flags(
    source: Path | FlagSource,
    out: str | os.PathLike[str],
    format: ExportFormat,
    *,
    since: datetime | str | None = None,
    options: Sequence[str | None] | None = None,
    apps: Sequence[str | None] | None = None,
    embed_files: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
    protected: Sequence[Path] = (),
) -> ExportReport:
    """Export the flags of ``source`` (a flagging directory or a flag source) to ``out`` (see the module docs).

    The filters are given to the source, which applies them where the data is (a database: in SQL).
    The file is written next to ``out`` under a temporary name, flushed to disk and renamed into
    place when complete: a reader sees the old file or the whole new one, never a part. A source
    given as an object is left open; a directory's journal is closed at the end.

    :param protected: more files never to overwrite (a callback's files, :func:`sink_files`).
    :raises ValueError: when ``out`` is the journal, a file of the flagging directory or a protected file.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    if embed_files and format != "parquet":
        raise ValueError("embed_files works only with the parquet format")
    wanted = RecordFilter(since, options, apps).flag_filter()
    directory = source.directory if isinstance(source, FlagSource) else source
    target = check_export_target(Path(out), directory, protected)  # before the journal is opened
    flags = source if isinstance(source, FlagSource) else JournalSource(source)
    progress = progress or _NoProgress()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        total = flags.count(wanted)
        if format == "jsonl":
            count = write_jsonl(_records(flags, wanted, total, batch, progress, "exporting"), partial)
        else:
            layout = Layout()
            for record in _records(flags, wanted, total, batch, progress, "reading columns"):
                layout.observe(record)
            records = _records(flags, wanted, total, batch, progress, "exporting")
            if format == "csv":
                count = write_csv(records, layout, partial)
            else:
                count = write_parquet(records, layout, partial, embed_files=embed_files, batch=batch)
        _sync(partial)
        partial.replace(target)
    finally:
        if flags is not source:
            flags.close()
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
