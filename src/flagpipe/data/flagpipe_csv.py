"""flagpipe's CSV layout, read and written: the csv callback's ``log.csv`` and ``flagpipe export --format csv``.

The columns are the fields, then the CSV layout of :mod:`flagpipe.core.columns`: ``flag``,
``username``, ``timestamp`` (ISO 8601, UTC), any extra columns, and ``id``. Cells a spreadsheet
could run as formulas carry a leading ``'`` (:mod:`flagpipe.core.cells`).
"""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

from flagpipe.core.cells import format_cell, neutralize, unneutralize
from flagpipe.core.columns import CSV_HEAD, EXPORT_CSV_COLUMNS, META_COLUMNS, names
from flagpipe.data.csv_cells import read_csv_rows, row_key, typed_fields
from flagpipe.data.records import FlagRecord, SourceError, isoformat, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from flagpipe.core.columns import MetaColumn
    from flagpipe.data.frame import Layout

__all__ = ["TRAILING_COLUMNS", "parse_flagpipe_csv", "write_csv"]

#: The columns that may follow ``timestamp`` (the extra columns and ``id``): CSV name to record attribute.
TRAILING_COLUMNS = {c.csv_name: c.name for c in META_COLUMNS if c.csv != "head"}
_HEAD = list(names(CSV_HEAD, csv=True))


def parse_flagpipe_csv(path: Path) -> list[FlagRecord]:
    """Read a CSV written by flagpipe's csv callback or by ``flagpipe export --format csv``.

    Column kinds are inferred as for Gradio's files (the CSV keeps no kinds); relative file paths are
    taken from the CSV's folder (the flagging directory).
    """
    rows = read_csv_rows(path)
    if not rows:
        return []
    header = [unneutralize(c) for c in rows[0]]
    ts_index = len(header) - 1 - header[::-1].index(_HEAD[-1])
    width = ts_index + 1 - len(_HEAD)
    if width < 0 or header[width : ts_index + 1] != _HEAD:
        raise SourceError(f"{path} is not in flagpipe's CSV layout (no 'flag', 'username' before 'timestamp')")
    fields = header[:width]
    trailing = header[ts_index + 1 :]
    data = [[unneutralize(c) for c in row] + [""] * max(0, len(header) - len(row)) for row in rows[1:]]
    base = path.parent.resolve()
    _, typed = typed_fields(fields, [r[:width] for r in data], base)
    records = []
    for index, (row, values) in enumerate(zip(data, typed, strict=True)):
        extra: dict[str, Any] = {
            TRAILING_COLUMNS[name]: cell or None
            for name, cell in zip(trailing, row[ts_index + 1 :], strict=False)
            if name in TRAILING_COLUMNS
        }
        text = extra.pop("metadata", None)
        metadata = json.loads(text) if text else {}
        records.append(
            FlagRecord(
                fields=values,
                option=row[width] or None,
                username=row[width + 1] or None,
                timestamp=parse_timestamp(row[ts_index]),
                metadata=metadata if isinstance(metadata, dict) else {"value": metadata},
                raw=dict(zip(fields, row[:width], strict=True)),
                source_key=row_key(path.name, index, rows[index + 1]),
                **extra,
            )
        )
    return records


def _event_cell(column: MetaColumn, value: Any) -> str:
    """An event column's cell in an export: times in ISO 8601, the id as is, no metadata as empty."""
    if column.name == "timestamp":
        return isoformat(value) or ""
    if column.name == "id":
        return value or ""
    if column.name == "metadata" and not value:
        return ""
    return format_cell(value)


def write_csv(records: Iterable[FlagRecord], layout: Layout, path: Path) -> int:
    """Write the records to ``path`` with every extra column and ``id``; return how many were written."""
    fields = list(layout.field_columns())
    header = [*fields, *names(EXPORT_CSV_COLUMNS, csv=True)]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralize(c) for c in header])
        for record in records:
            values = {name: value for name, _, value in record.fields}
            cells = [format_cell(values.get(name)) for name in fields]
            cells += [_event_cell(column, getattr(record, column.name)) for column in EXPORT_CSV_COLUMNS]
            writer.writerow(cells)
            count += 1
    return count
