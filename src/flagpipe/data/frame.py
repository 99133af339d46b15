"""The DataFrame of :func:`flagpipe.read_flags`: one typed column per field, then the event and metadata columns.

pandas is imported only when a DataFrame is built, so ``import flagpipe`` never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.core.columns import FRAME_COLUMNS, names
from flagpipe.core.event import FILE_KINDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import pandas as pd

    from flagpipe.data.records import FlagRecord

__all__ = ["Layout", "column_series", "flatten", "frame_kind", "records_to_frame", "value_kind"]

#: The event columns, after the fields and before ``metadata.*``.
_EVENT_COLUMNS = names(FRAME_COLUMNS)


#: Python types of JSON scalars and their kinds, in the order they are checked (a bool is an int).
_SCALAR_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    ((int, float), "number"),
    (str, "text"),
)


def value_kind(value: Any) -> str | None:
    """The kind of a JSON value (``number``, ``bool``, ``text`` or ``json``); None for None."""
    if value is None:
        return None
    return next((kind for types, kind in _SCALAR_KINDS if isinstance(value, types)), "json")


def frame_kind(kind: str) -> str:
    """The column kind of a field kind: file kinds are ``file``, plugin kinds ``json``."""
    if kind in FILE_KINDS:
        return "file"
    return kind if kind in ("number", "bool", "text", "json") else "json"


def flatten(metadata: dict[str, Any], prefix: str = "metadata.") -> Iterator[tuple[str, Any]]:
    """``(column, value)`` per metadata value, nested keys dotted (``metadata.model.version``)."""
    for key, value in metadata.items():
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{prefix}{key}.")
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
                kinds.add(frame_kind(kind))
                self._note_int(f"f:{name}", value)
        for key, value in flatten(record.metadata):
            kinds = self._meta.setdefault(key, set())
            found = value_kind(value)
            if found is not None:
                kinds.add(found)
                self._note_int(f"m:{key}", value)

    def _note_int(self, key: str, value: Any) -> None:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        self._ints[key] = self._ints.get(key, True) and is_int

    def _field_names(self) -> dict[str, str]:
        if self._names is None:
            taken = {*_EVENT_COLUMNS, *self._meta}
            self._names = {name: f"field.{name}" if name in taken else name for name in self._fields}
        return self._names

    @staticmethod
    def _merge(kinds: set[str]) -> str:
        if not kinds:
            return "text"
        return next(iter(kinds)) if len(kinds) == 1 else "json"

    def columns(self) -> list[tuple[str, str]]:
        """``(column, kind)`` in order: fields, the event columns, ``metadata.*`` (sorted by name)."""
        names = self._field_names()
        result = [(names[name], self._merge(kinds)) for name, kinds in self._fields.items()]
        result += [(c, "timestamp" if c == "timestamp" else "text") for c in _EVENT_COLUMNS]
        result += [(key, self._merge(kinds)) for key, kinds in sorted(self._meta.items())]  # same order from any source
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
        row.update((c.name, getattr(record, c.name)) for c in FRAME_COLUMNS)
        row.update(flatten(record.metadata))
        return row


def column_series(values: list[Any], kind: str, *, integer: bool = False) -> pd.Series[Any]:
    """A pandas Series of one column's values with the dtype of its kind (see :func:`records_to_frame`)."""
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
    series = {name: column_series(data[name], kind, integer=layout.integer(name)) for name, kind in columns}
    frame: pd.DataFrame = pd.DataFrame(series, index=pd.RangeIndex(len(records)))
    frame.attrs["flagpipe_kinds"] = dict(columns)
    return frame
