"""Reading flags back: :func:`read_flags`, and parsers for flagpipe's and Gradio's CSV files.

Every source is turned into :class:`FlagRecord` objects first (one per flag), then into a pandas
DataFrame with one typed column per field (see :func:`records_to_frame`). pandas is imported only
when a DataFrame is built, so ``import flagpipe`` never imports it.

Timestamps written by Gradio (``str(datetime.datetime.now())``) carry no timezone: they are taken as
the local time of the machine reading them (the ``TZ`` of this process), then converted to UTC. A
naive ``since`` is read the same way.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.event import FILE_KINDS

if TYPE_CHECKING:
    import os
    from collections.abc import Collection, Iterable, Iterator, Sequence

    import pandas as pd

    from flagpipe.core.event import FlagEvent

__all__ = [
    "FRAME_META_COLUMNS",
    "FlagRecord",
    "Layout",
    "SourceError",
    "detect_csv_format",
    "iter_journal_records",
    "parse_flagpipe_csv",
    "parse_gradio_csv",
    "parse_since",
    "read_flags",
    "record_from_event",
    "records_to_frame",
    "unescape_gradio",
]

#: The event columns of a DataFrame, after the field columns and before ``metadata.*``.
FRAME_META_COLUMNS = ("option", "username", "comment", "timestamp", "id", "mode", "session_id", "app")
#: Columns of flagpipe's CSV layout that may follow ``timestamp`` (the csv callback's extras, and ``id``).
_FLAGPIPE_TRAILING = frozenset({"comment", "session_id", "app", "mode", "metadata", "id"})
#: What Gradio's CSV-injection escaping looks for (``gradio.utils.sanitize_value_for_csv``).
_GRADIO_UNSAFE_PREFIXES = ("=", "+", "-", "@", "\t", "\n")
_GRADIO_UNSAFE_SEQUENCES = (",=", ",+", ",-", ",@", ",\t", ",\n")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
#: Column kinds of a DataFrame (field kinds are mapped onto these).
FRAME_KINDS = ("number", "bool", "text", "json", "file", "timestamp")


class SourceError(ValueError):
    """A source cannot be read as flags: the message says which file and why."""


@dataclass
class FlagRecord:
    """One flag read from any source, before it becomes a DataFrame row.

    :ivar fields: ``(name, kind, value)`` per field; file kinds carry an absolute path (or None).
    :ivar raw: for CSV sources, each field's cell after un-escaping (before any type conversion).
    :ivar source_key: for CSV sources, a stable hash of the file name, row number and row cells.
    """

    fields: list[tuple[str, str, Any]] = field(default_factory=list)
    option: str | None = None
    username: str | None = None
    comment: str | None = None
    timestamp: datetime | None = None
    id: str | None = None
    mode: str | None = None
    session_id: str | None = None
    app: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    source_key: str | None = None


# -- events --------------------------------------------------------------------------------------


def record_from_event(event: FlagEvent, directory: Path) -> FlagRecord:
    """The record of a journal event; file fields become absolute paths under ``directory``."""
    fields: list[tuple[str, str, Any]] = []
    for item in event.fields:
        if item.file is not None:
            fields.append((item.name, item.kind, str(directory / item.file.path)))
        else:
            fields.append((item.name, item.kind, item.value))
    return FlagRecord(
        fields=fields,
        option=event.option,
        username=event.username,
        comment=event.comment,
        timestamp=event.created_at,
        id=event.id,
        mode=event.mode,
        session_id=event.session_id,
        app=event.app,
        metadata=dict(event.metadata),
    )


def parse_since(since: datetime | str | None) -> datetime | None:
    """``since`` as an aware UTC datetime; naive values (and ISO strings without offset) are local time."""
    if since is None:
        return None
    if isinstance(since, str):
        text = since.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            since = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"since must be an ISO 8601 date or time, got {since!r}") from None
    return since.astimezone(timezone.utc)


class _Filter:
    """The ``since`` and ``options`` filters of :func:`read_flags` and ``flagpipe export``."""

    def __init__(self, since: datetime | str | None, options: Iterable[str | None] | None) -> None:
        self.since = parse_since(since)
        self.options = None if options is None else set(options)

    def __call__(self, timestamp: datetime | None, option: str | None) -> bool:
        if self.since is not None and (timestamp is None or timestamp < self.since):
            return False
        return self.options is None or option in self.options

    def events(self, events: Iterable[FlagEvent]) -> Iterator[FlagEvent]:
        """The events that pass."""
        return (e for e in events if self(e.created_at, e.option))


def iter_journal_records(
    directory: Path, *, since: datetime | str | None = None, options: Iterable[str | None] | None = None
) -> Iterator[FlagRecord]:
    """The records of a flagging directory's journal, oldest first, read in batches."""
    from flagpipe.core.journal import JOURNAL_PATH, Journal

    if not (directory / JOURNAL_PATH).is_file():
        raise SourceError(f"no flags in {directory}: {directory / JOURNAL_PATH} does not exist")
    keep = _Filter(since, options)
    journal = Journal(directory)
    try:
        for event in keep.events(event for _, event in journal.iter_events()):
            yield record_from_event(event, directory)
    finally:
        journal.close()


# -- CSV files -----------------------------------------------------------------------------------


def unescape_gradio(text: str) -> str:
    """Undo Gradio's CSV-injection escaping (``'-5`` is ``-5``; ``'a,=b`` is ``a,=b``).

    Gradio prefixes ``'`` to a cell that starts with ``= + - @ \\t \\n`` or contains one of them after
    a comma. A cell that really started with ``'`` followed by such text cannot be told apart; it
    loses its quote.
    """
    if text.startswith("'"):
        rest = text[1:]
        if rest.startswith(_GRADIO_UNSAFE_PREFIXES) or any(s in rest for s in _GRADIO_UNSAFE_SEQUENCES):
            return rest
    return text


def _read_csv(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None


def _parse_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(timezone.utc)  # a naive value is taken as local time


def _is_aware(text: str) -> bool:
    try:
        return "T" in text and datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def detect_csv_format(path: Path) -> str:
    """``flagpipe`` (written by the csv callback or ``flagpipe export``), ``gradio-classic`` or ``gradio``.

    ``gradio-classic`` is the ``log.csv`` of Gradio 3/4 (and ``ClassicCSVLogger``): it always has
    ``flag`` and ``username`` columns. ``gradio`` is Gradio 5/6's ``CSVLogger`` (``dataset1.csv``).
    """
    rows = _read_csv(path)
    if not rows:
        raise SourceError(f"{path} is empty")
    header = [unescape_gradio(c) for c in rows[0]]
    if "timestamp" not in header:
        raise SourceError(f"{path} has no 'timestamp' column: not a flagging CSV (Gradio's SimpleCSVLogger?)")
    where = len(header) - 1 - header[::-1].index("timestamp")
    trailing = header[where + 1 :]
    if trailing and all(c in _FLAGPIPE_TRAILING for c in trailing):
        return "flagpipe"
    tail = header[max(0, where - 2) : where]
    if tail == ["flag", "username"]:
        if len(rows) > 1 and len(rows[1]) == len(header) and _is_aware(rows[1][where]):
            return "flagpipe"  # flagpipe writes ISO 8601 with an offset; Gradio writes naive local time
        if path.name.startswith("log"):
            return "gradio-classic"
    return "gradio"


def _resolve_file(cell: str, base: Path) -> Path:
    """A file cell as an absolute path: as is when absolute, else the first existing match under ``base``.

    Gradio writes paths relative to the working directory of the app (``flagged/image/<hex>/x.png``),
    so the leading parts are dropped one by one until the rest exists under the CSV's folder.
    """
    path = Path(cell)
    if path.is_absolute():
        return path
    parts = path.parts
    for start in range(len(parts)):
        candidate = base.joinpath(*parts[start:])
        if candidate.is_file():
            return candidate
    cwd = Path.cwd() / path
    if cwd.is_file():
        return cwd
    return base / path


def _file_cell(cell: str, base: Path) -> Path | None:
    """The file a cell refers to (a path or a Gradio 4 FileData JSON), or None if it is not one that exists."""
    text = cell
    if cell.startswith("{"):
        try:
            payload = json.loads(cell)
        except ValueError:
            return None
        if not (isinstance(payload, dict) and isinstance(payload.get("path"), str)):
            return None
        text = payload["path"]
    if not text or "\n" in text:
        return None
    try:
        resolved = _resolve_file(text, base)
        return resolved if resolved.is_file() else None
    except (OSError, ValueError):
        return None


def _infer_kind(cells: Sequence[str], base: Path) -> str:
    """The kind of a CSV column from its non-empty cells: number, bool, json, file or text."""
    values = [c for c in cells if c != ""]
    if not values:
        return "text"
    if all(c in ("true", "false") for c in values):
        return "bool"
    if all(_JSON_NUMBER.fullmatch(c) for c in values):
        return "number"
    if all(_file_cell(c, base) is not None for c in values):
        return "file"
    if all(c.startswith(("{", "[")) and _is_json(c) for c in values):
        return "json"
    return "text"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _convert(cell: str, kind: str, base: Path) -> Any:
    """A cleaned cell as a value of ``kind`` (files: an absolute path string)."""
    if kind == "text":
        return cell
    if cell == "":
        return None
    if kind == "bool":
        return cell == "true"
    if kind in ("number", "json"):
        return json.loads(cell)
    found = _file_cell(cell, base)
    return None if found is None else str(found)


def _row_key(name: str, index: int, row: Sequence[str]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{name}\n{index}\n".encode())
    digest.update("\x1f".join(row).encode("utf-8"))
    return digest.hexdigest()


def _typed_fields(
    names: Sequence[str], rows: Sequence[Sequence[str]], base: Path
) -> tuple[list[str], list[list[tuple[str, str, Any]]]]:
    kinds = [_infer_kind([r[i] for r in rows], base) for i in range(len(names))]
    typed = [
        [(name, kind, _convert(row[i], kind, base)) for i, (name, kind) in enumerate(zip(names, kinds, strict=True))]
        for row in rows
    ]
    return kinds, typed


def parse_gradio_csv(path: Path, *, known_options: Collection[str] = ()) -> list[FlagRecord]:
    """Read a CSV written by Gradio's ``CSVLogger`` (5/6) or ``ClassicCSVLogger`` / 3.x-4.x ``CSVLogger``.

    - Cells are un-escaped (:func:`unescape_gradio`); numbers, ``true``/``false`` and JSON are parsed
      when every non-empty cell of a column is one; cells naming existing files (paths, or Gradio 4's
      FileData JSON) make a file column, with absolute paths.
    - ``flag`` and ``username`` cells become ``option`` and ``username`` (empty, or ``None`` as Gradio
      5's ``ClassicCSVLogger`` writes it, means none); ``timestamp`` is naive local time -> UTC.
    - Gradio 5's column drift (``flag``/``username`` cells added to rows under a header that lacks them)
      is undone: two extra cells are the option then the user; a single extra cell is an option when
      its value is in ``known_options`` or is used as an option in rows that say so, a user when it is
      used as a user elsewhere, and otherwise whatever the header has (an option when the header has
      a ``flag`` column, else a user).
    """
    rows = _read_csv(path)
    if not rows:
        return []
    header = [unescape_gradio(c) for c in rows[0]]
    if "timestamp" not in header:
        raise SourceError(f"{path} has no 'timestamp' column: not a flagging CSV")
    ts_index = len(header) - 1 - header[::-1].index("timestamp")
    meta: list[str] = []
    width = ts_index
    while width > 0 and header[width - 1] in ("flag", "username") and header[width - 1] not in meta:
        meta.insert(0, header[width - 1])
        width -= 1
    names = header[:width]
    data = rows[1:]
    field_cells: list[list[str]] = []
    middles: list[list[str]] = []
    stamps: list[str] = []
    for row in data:
        cells = [unescape_gradio(c) for c in row]
        cells += [""] * max(0, width + 1 - len(cells))
        field_cells.append(cells[:width])
        rest = cells[width:]
        stamps.append(rest[-1] if rest else "")
        middles.append(rest[:-1])
    # values seen unambiguously as options or users, to place a single drifted cell
    seen_options = set(known_options)
    seen_users: set[str] = set()
    for middle in middles:
        if len(middle) >= 2:  # only two cells say for sure which is which
            if middle[0] not in ("", "None"):
                seen_options.add(middle[0])
            if middle[1]:
                seen_users.add(middle[1])
    base = path.parent.resolve()
    _, typed = _typed_fields(names, field_cells, base)
    records = []
    for index, (row, cells, middle, stamp, fields) in enumerate(
        zip(data, field_cells, middles, stamps, typed, strict=True)
    ):
        option, username = _assign_meta(middle, meta, seen_options, seen_users)
        records.append(
            FlagRecord(
                fields=fields,
                option=option,
                username=username,
                timestamp=_parse_time(stamp),
                raw=dict(zip(names, cells, strict=True)),
                source_key=_row_key(path.name, index, row),
            )
        )
    return records


def _assign_meta(
    middle: Sequence[str], meta: Sequence[str], options: set[str], users: set[str]
) -> tuple[str | None, str | None]:
    if not middle:
        return None, None
    if len(middle) >= 2:
        option, username = middle[0], middle[1]
    elif len(meta) == 1:
        option, username = (middle[0], "") if meta[0] == "flag" else ("", middle[0])
        value = middle[0]
        if value in options and value not in users:
            option, username = value, ""
        elif value in users and value not in options:
            option, username = "", value
    else:
        value = middle[0]
        as_option = value in options and value not in users
        as_user = value in users and value not in options
        if not as_option and not as_user:
            as_option = "flag" in meta
        option, username = (value, "") if as_option else ("", value)
    return (None if option in ("", "None") else option), (username or None)


def parse_flagpipe_csv(path: Path) -> list[FlagRecord]:
    """Read a CSV written by flagpipe's csv callback or by ``flagpipe export --format csv``.

    Column kinds are inferred as for Gradio's files (the CSV keeps no kinds); relative file paths are
    taken from the CSV's folder (the flagging directory).
    """
    from flagpipe.plugins.csv import unneutralize

    rows = _read_csv(path)
    if not rows:
        return []
    header = [unneutralize(c) for c in rows[0]]
    ts_index = len(header) - 1 - header[::-1].index("timestamp")
    width = ts_index - 2
    if width < 0 or header[width:ts_index] != ["flag", "username"]:
        raise SourceError(f"{path} is not in flagpipe's CSV layout (no 'flag', 'username' before 'timestamp')")
    names = header[:width]
    trailing = header[ts_index + 1 :]
    data = [[unneutralize(c) for c in row] + [""] * max(0, len(header) - len(row)) for row in rows[1:]]
    base = path.parent.resolve()
    _, typed = _typed_fields(names, [r[:width] for r in data], base)
    records = []
    for index, (row, fields) in enumerate(zip(data, typed, strict=True)):
        extra = dict(zip(trailing, row[ts_index + 1 :], strict=False))
        metadata = json.loads(extra["metadata"]) if extra.get("metadata") else {}
        records.append(
            FlagRecord(
                fields=fields,
                option=row[width] or None,
                username=row[width + 1] or None,
                timestamp=_parse_time(row[ts_index]),
                comment=extra.get("comment") or None,
                session_id=extra.get("session_id") or None,
                app=extra.get("app") or None,
                mode=extra.get("mode") or None,
                id=extra.get("id") or None,
                metadata=metadata if isinstance(metadata, dict) else {"value": metadata},
                raw=dict(zip(names, row[:width], strict=True)),
                source_key=_row_key(path.name, index, rows[index + 1]),
            )
        )
    return records


def parse_csv(path: Path, *, known_options: Collection[str] = ()) -> list[FlagRecord]:
    """Read any supported flagging CSV (see :func:`detect_csv_format`)."""
    if detect_csv_format(path) == "flagpipe":
        return parse_flagpipe_csv(path)
    return parse_gradio_csv(path, known_options=known_options)


def gradio_csv_files(directory: Path) -> list[Path]:
    """The flagging CSVs of a Gradio flagging folder: ``log.csv`` and ``dataset<N>.csv``, in order."""

    def order(path: Path) -> tuple[int, str]:
        digits = re.findall(r"\d+", path.stem)
        return (int(digits[0]) if digits else 0, path.name)

    found = [p for p in directory.glob("*.csv") if p.name == "log.csv" or re.fullmatch(r"dataset\d+\.csv", p.name)]
    return sorted(found, key=order)


# -- exported files ------------------------------------------------------------------------------

#: Keys of an exported JSONL record that are not fields.
_JSONL_META = frozenset({*FRAME_META_COLUMNS, "metadata"})


def parse_jsonl(path: Path) -> list[FlagRecord]:
    """Read a file written by ``flagpipe export --format jsonl`` (one flat JSON object per flag)."""
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise SourceError(f"{path}:{number}: not JSON: {exc}") from None
                records.append(_record_from_flat(item))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    return records


def _record_from_flat(item: dict[str, Any]) -> FlagRecord:
    fields = []
    for key, value in item.items():
        if key in _JSONL_META:
            continue
        name = key[len("field.") :] if key.startswith("field.") and key[len("field.") :] in _JSONL_META else key
        fields.append((name, _value_kind(value) or "text", value))
    metadata = item.get("metadata") or {}
    stamp = item.get("timestamp")
    return FlagRecord(
        fields=fields,
        option=item.get("option"),
        username=item.get("username"),
        comment=item.get("comment"),
        timestamp=_parse_time(stamp) if isinstance(stamp, str) else None,
        id=item.get("id"),
        mode=item.get("mode"),
        session_id=item.get("session_id"),
        app=item.get("app"),
        metadata=metadata if isinstance(metadata, dict) else {"value": metadata},
    )


def _read_parquet(path: Path, keep: _Filter) -> pd.DataFrame:
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
            frame[name] = _series(values, kind, integer=name in integers)
    if keep.since is not None or keep.options is not None:
        stamps = frame["timestamp"].tolist() if "timestamp" in frame else [None] * len(frame)
        opts = frame["option"].tolist() if "option" in frame else [None] * len(frame)
        mask = [keep(_none(t), _none(o)) for t, o in zip(stamps, opts, strict=True)]
        frame = frame[mask].reset_index(drop=True)
    return frame


def _none(value: Any) -> Any:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


# -- DataFrames ----------------------------------------------------------------------------------


def _value_kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return "json"


def _frame_kind(kind: str) -> str:
    if kind in FILE_KINDS:
        return "file"
    return kind if kind in ("number", "bool", "text", "json") else "json"


def _flatten(metadata: dict[str, Any], prefix: str = "metadata.") -> Iterator[tuple[str, Any]]:
    for key, value in metadata.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


class Layout:
    """The columns of a set of records: field columns with their kinds, then event and metadata columns.

    Feed it every record (:meth:`observe`), then ask for :meth:`columns` and :meth:`row`. A field's
    column kind is its kind (``image``, ``audio``, ``video`` and ``file`` are all ``file``); a field
    seen with several kinds becomes ``json`` (Python objects). A field whose name is taken by an event
    column (``option``, ``id``, ...) or a metadata column is called ``field.<name>``.
    """

    def __init__(self) -> None:
        self._fields: dict[str, set[str]] = {}
        self._meta: dict[str, set[str]] = {}
        self._ints: dict[str, bool] = {}
        self._names: dict[str, str] | None = None

    def observe(self, record: FlagRecord) -> None:
        """Take a record's fields and metadata keys into account."""
        self._names = None
        for name, kind, value in record.fields:
            kinds = self._fields.setdefault(name, set())
            if value is not None:
                kinds.add(_frame_kind(kind))
                self._note_int(f"f:{name}", value)
        for key, value in _flatten(record.metadata):
            kinds = self._meta.setdefault(key, set())
            value_kind = _value_kind(value)
            if value_kind is not None:
                kinds.add(value_kind)
                self._note_int(f"m:{key}", value)

    def _note_int(self, key: str, value: Any) -> None:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        self._ints[key] = self._ints.get(key, True) and is_int

    def _field_names(self) -> dict[str, str]:
        if self._names is None:
            taken = {*FRAME_META_COLUMNS, *self._meta}
            self._names = {name: f"field.{name}" if name in taken else name for name in self._fields}
        return self._names

    @staticmethod
    def _merge(kinds: set[str]) -> str:
        if not kinds:
            return "text"
        return next(iter(kinds)) if len(kinds) == 1 else "json"

    def columns(self) -> list[tuple[str, str]]:
        """``(column, kind)`` in order: fields, the event columns, ``metadata.*``."""
        names = self._field_names()
        result = [(names[name], self._merge(kinds)) for name, kinds in self._fields.items()]
        result += [(c, "timestamp" if c == "timestamp" else "text") for c in FRAME_META_COLUMNS]
        result += [(key, self._merge(kinds)) for key, kinds in self._meta.items()]
        return result

    def integer(self, column: str) -> bool:
        """True when every value of a number column is an integer."""
        for name, column_name in self._field_names().items():
            if column_name == column:
                return self._ints.get(f"f:{name}", False)
        return self._ints.get(f"m:{column}", False)

    def field_columns(self) -> dict[str, str]:
        """Field name to column name."""
        return dict(self._field_names())

    def row(self, record: FlagRecord) -> dict[str, Any]:
        """The record as ``{column: value}`` (missing columns are absent)."""
        names = self._field_names()
        row: dict[str, Any] = {names[name]: value for name, _, value in record.fields}
        row.update(
            option=record.option,
            username=record.username,
            comment=record.comment,
            timestamp=record.timestamp,
            id=record.id,
            mode=record.mode,
            session_id=record.session_id,
            app=record.app,
        )
        row.update(_flatten(record.metadata))
        return row


def _series(values: list[Any], kind: str, *, integer: bool = False) -> pd.Series[Any]:
    import pandas as pd

    series: pd.Series[Any]
    if kind == "number":
        if integer and all(v is not None for v in values):
            series = pd.Series(values, dtype="int64")
        else:
            series = pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    elif kind == "bool":
        series = pd.Series(values, dtype="boolean")
    elif kind in ("text", "file"):
        series = pd.Series(values, dtype="string")
    elif kind == "timestamp":
        series = pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[us, UTC]")
    else:
        series = pd.Series(values, dtype="object")
    return series


def records_to_frame(records: Iterable[FlagRecord]) -> pd.DataFrame:
    """A DataFrame with one row per record and one typed column per field (see :class:`Layout`).

    Dtypes: numbers ``int64`` (``float64`` with NaN when a value is missing or not an integer),
    bools ``boolean``, text and file paths ``string``, JSON and mixed values ``object``,
    ``timestamp`` ``datetime64[us, UTC]``; ``metadata.*`` columns likewise from their values.
    """
    import pandas as pd

    records = list(records)
    layout = Layout()
    for record in records:
        layout.observe(record)
    columns = layout.columns()
    data: dict[str, list[Any]] = {name: [] for name, _ in columns}
    for record in records:
        row = layout.row(record)
        for name, values in data.items():
            values.append(row.get(name))
    series = {name: _series(data[name], kind, integer=layout.integer(name)) for name, kind in columns}
    frame: pd.DataFrame = pd.DataFrame(series, index=pd.RangeIndex(len(records)))
    frame.attrs["flagpipe_kinds"] = dict(columns)
    return frame


def read_flags(
    source: str | os.PathLike[str],
    *,
    since: datetime | str | None = None,
    options: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """Read flags into a pandas DataFrame: one row per flag, one typed column per field.

    :param source: a flagging directory or a ``flagging.yaml`` (read from the journal, the source of
        truth); a CSV written by flagpipe or by Gradio (``log.csv`` of Gradio 3/4 or
        ``ClassicCSVLogger``, ``dataset<N>.csv`` of Gradio 5/6); a folder of Gradio CSVs without a
        journal; or a ``.jsonl`` / ``.parquet`` file written by ``flagpipe export``.
    :param since: keep flags made at or after this time (a datetime or an ISO 8601 string; naive
        values are local time). Flags without a timestamp are dropped when it is given.
    :param options: keep flags whose option is in this list (``None`` in the list keeps flags without
        an option).
    :returns: columns: the fields (file fields as absolute paths), ``option``, ``username``,
        ``comment``, ``timestamp`` (UTC), ``id``, ``mode``, ``session_id``, ``app``, then
        ``metadata.<key>`` (nested keys dotted). ``frame.attrs["flagpipe_kinds"]`` maps columns to kinds.
    :raises SourceError: (a ``ValueError``) when the source cannot be read.
    :raises FileNotFoundError: when it does not exist.
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    keep = _Filter(since, options)
    suffix = path.suffix.lower()
    if path.is_dir():
        from flagpipe.core.journal import JOURNAL_PATH

        if (path / JOURNAL_PATH).is_file():
            records: Iterable[FlagRecord] = iter_journal_records(path.resolve(), since=since, options=options)
            return records_to_frame(records)
        files = gradio_csv_files(path)
        if not files:
            raise SourceError(f"no flags in {path}: no journal ({JOURNAL_PATH}) and no log.csv or dataset*.csv")
        records = [r for f in files for r in parse_csv(f)]
    elif suffix in (".yaml", ".yml"):
        from flagpipe.config.loader import load_config

        directory = load_config(path).directory
        return records_to_frame(iter_journal_records(directory, since=since, options=options))
    elif suffix == ".csv":
        records = parse_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        records = parse_jsonl(path)
    elif suffix == ".parquet":
        return _read_parquet(path, keep)
    else:
        raise SourceError(f"cannot read flags from {path}: expected a directory, .yaml, .csv, .jsonl or .parquet")
    return records_to_frame(r for r in records if keep(r.timestamp, r.option))
