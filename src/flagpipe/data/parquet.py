"""Parquet: the DataFrame's columns with their types, as ``flagpipe export --format parquet`` writes them.

The file's key-value metadata ``flagpipe`` records each column's kind, so :func:`read_parquet` restores
them exactly (JSON text back to objects). With ``embed_files`` a file column is a
``struct<bytes, path>`` (the layout Hugging Face ``datasets`` uses for images and audio).
pyarrow and pandas are imported only when a file is read or written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.data.frame import column_series
from flagpipe.data.records import SourceError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from flagpipe.data.frame import Layout
    from flagpipe.data.records import FlagRecord, RecordFilter

__all__ = ["read_parquet", "write_parquet"]


def read_parquet(path: Path, keep: RecordFilter) -> pd.DataFrame:
    """Read a file written by ``flagpipe export --format parquet``, restoring each column's kind."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    raw = (table.schema.metadata or {}).get(b"flagpipe")
    kinds: dict[str, str] = json.loads(raw)["columns"] if raw else {}
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if pa.types.is_struct(column.type):  # an embedded file: keep its path
            table = table.set_column(index, name, pa.compute.struct_field(column, "path"))
    integers = {
        name for name, type_ in zip(table.column_names, table.schema.types, strict=True) if pa.types.is_integer(type_)
    }
    frame: pd.DataFrame = table.to_pandas()
    for name, kind in kinds.items():
        if name in frame.columns:
            values = [_none(v) for v in frame[name].tolist()]
            if kind == "json":
                values = [None if v is None else json.loads(v) for v in values]
            frame[name] = column_series(values, kind, integer=name in integers)
    if keep.active:
        stamps = frame["timestamp"].tolist() if "timestamp" in frame else [None] * len(frame)
        opts = frame["option"].tolist() if "option" in frame else [None] * len(frame)
        apps = frame["app"].tolist() if "app" in frame else [None] * len(frame)
        mask = [keep(_none(t), _none(o), _none(a)) for t, o, a in zip(stamps, opts, apps, strict=True)]
        frame = frame[mask].reset_index(drop=True)
    return frame


def _none(value: Any) -> Any:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


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


def write_parquet(records: Iterable[FlagRecord], layout: Layout, path: Path, *, embed_files: bool, batch: int) -> int:
    """Write the records to ``path`` with ``layout``'s columns, ``batch`` rows at a time; return the count."""
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
