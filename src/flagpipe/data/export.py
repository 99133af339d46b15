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

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from flagpipe.data.read import FlagRecord, Layout, SourceError, _Filter, record_from_event

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from flagpipe.core.journal import Journal

ExportFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "parquet")
#: Columns of the CSV export after the fields (flagpipe's CSV layout with every extra column and ``id``).
CSV_META = ("flag", "username", "timestamp", "comment", "session_id", "app", "mode", "metadata", "id")


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
    journal: Journal, directory: Path, keep: _Filter, batch: int, progress: Progress, phase: str
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
) -> ExportReport:
    """Export the flags of the flagging directory ``directory`` to ``out`` (see the module docs).

    The file is written next to ``out`` under a temporary name and renamed into place when complete.
    """
    from flagpipe.core.journal import JOURNAL_PATH, Journal

    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    if embed_files and format != "parquet":
        raise ValueError("embed_files works only with the parquet format")
    if not (directory / JOURNAL_PATH).is_file():
        raise SourceError(f"no flags in {directory}: {directory / JOURNAL_PATH} does not exist")
    keep = _Filter(since, options)
    progress = progress or _NoProgress()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    journal = Journal(directory)
    try:
        if format == "jsonl":
            count = _write_jsonl(_records(journal, directory, keep, batch, progress, "exporting"), partial)
        else:
            layout = Layout()
            for record in _records(journal, directory, keep, batch, progress, "reading columns"):
                layout.observe(record)
            records = _records(journal, directory, keep, batch, progress, "exporting")
            if format == "csv":
                count = _write_csv(records, layout, partial)
            else:
                count = _write_parquet(records, layout, partial, embed_files=embed_files, batch=batch)
        partial.replace(target)
    finally:
        journal.close()
        partial.unlink(missing_ok=True)
    return ExportReport(target, format, count)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _write_jsonl(records: Iterable[FlagRecord], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            item: dict[str, Any] = {}
            for name, _, value in record.fields:
                item[f"field.{name}" if name in _FLAT_TAKEN else name] = value
            item.update(
                option=record.option,
                username=record.username,
                comment=record.comment,
                timestamp=_iso(record.timestamp),
                id=record.id,
                mode=record.mode,
                session_id=record.session_id,
                app=record.app,
                metadata=record.metadata,
            )
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    return count


_FLAT_TAKEN = frozenset({"option", "username", "comment", "timestamp", "id", "mode", "session_id", "app", "metadata"})


def _csv_cell(value: Any) -> str:
    from flagpipe.plugins.csv import format_cell

    return format_cell(value)


def _write_csv(records: Iterable[FlagRecord], layout: Layout, path: Path) -> int:
    import csv

    from flagpipe.plugins.csv import neutralize

    names = list(layout.field_columns())
    header = [*names, *CSV_META]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralize(c) for c in header])
        for record in records:
            values = {name: value for name, _, value in record.fields}
            cells = [_csv_cell(values.get(name)) for name in names]
            cells += [
                _csv_cell(record.option),
                _csv_cell(record.username),
                _iso(record.timestamp) or "",
                _csv_cell(record.comment),
                _csv_cell(record.session_id),
                _csv_cell(record.app),
                _csv_cell(record.mode),
                _csv_cell(record.metadata) if record.metadata else "",
                record.id or "",
            ]
            writer.writerow(cells)
            count += 1
    return count


def _arrow_type(kind: str, integer: bool, embed_files: bool) -> Any:
    import pyarrow as pa

    if kind == "number":
        return pa.int64() if integer else pa.float64()
    if kind == "bool":
        return pa.bool_()
    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if kind == "file" and embed_files:
        return pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    return pa.string()  # text, file paths, and JSON as JSON text


def _arrow_value(value: Any, kind: str, embed_files: bool) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False)
    if kind == "file" and embed_files:
        path = Path(value)
        return {"bytes": path.read_bytes() if path.is_file() else None, "path": str(path)}
    if kind == "text" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value


def _write_parquet(records: Iterable[FlagRecord], layout: Layout, path: Path, *, embed_files: bool, batch: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = layout.columns()
    types = [_arrow_type(kind, layout.integer(name), embed_files) for name, kind in columns]
    kinds = {name: kind for name, kind in columns}
    schema = pa.schema(
        [pa.field(name, type_) for (name, _), type_ in zip(columns, types, strict=True)],
        metadata={"flagpipe": json.dumps({"version": 1, "columns": kinds})},
    )
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            arrays = [
                pa.array([_arrow_value(row.get(name), kind, embed_files) for row in pending], type=type_)
                for (name, kind), type_ in zip(columns, types, strict=True)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            pending.clear()

        for record in records:
            pending.append(layout.row(record))
            count += 1
            if len(pending) >= batch:
                flush()
        if pending or count == 0:
            flush()
    return count
