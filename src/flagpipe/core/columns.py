"""The event's own columns (option, username, timestamp, ...) in every layout flagpipe writes.

One table, :data:`META_COLUMNS`, lists each event attribute that becomes a column next to the
fields, with its name and place in each layout; every layout is derived from it:

- **csv**: the csv callback's ``log.csv`` (Gradio's flagging layout) and ``flagpipe export --format
  csv``: the fields, ``flag``, ``username``, ``timestamp``, the extra columns, then ``id``
  (:func:`csv_columns`, :data:`EXPORT_CSV_COLUMNS`);
- **frame**: the DataFrame of :func:`flagpipe.read_flags` and the Parquet export, whose
  ``metadata`` is flattened into ``metadata.*`` columns (:data:`FRAME_COLUMNS`);
- **jsonl**: the frame's event columns, then ``metadata`` as an object (:data:`JSONL_COLUMNS`);
- **hub**: the ``hf_dataset`` callback's Parquet shards (:data:`HUB_COLUMNS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flagpipe.core.event import FlagEvent

__all__ = [
    "CSV_EXTRAS",
    "CSV_HEAD",
    "EXPORT_CSV_COLUMNS",
    "FRAME_COLUMNS",
    "HUB_COLUMNS",
    "JSONL_COLUMNS",
    "META_COLUMNS",
    "CsvPart",
    "MetaColumn",
    "csv_columns",
    "names",
]

#: Where a column goes in the CSV layouts: always, before the extras (``head``); only when asked
#: for (``extra``); or last, as the id column (``id``).
CsvPart = Literal["head", "extra", "id"]


@dataclass(frozen=True)
class MetaColumn:
    """One event attribute as a column: its names, and its place in each layout.

    :ivar attribute: the :class:`~flagpipe.FlagEvent` attribute it holds.
    :ivar name: its name in the frame, JSONL and hub layouts (and the attribute of a
        :class:`flagpipe.data.records.FlagRecord`).
    :ivar csv_name: its name in the CSV layouts.
    :ivar csv: its part of the CSV layouts (see :data:`CsvPart`).
    :ivar frame: its place among a DataFrame's event columns; None when it is not one (the metadata
        is flattened into ``metadata.*`` columns instead).
    :ivar hub: its place among a Hub shard's event columns.
    """

    attribute: str
    name: str
    csv_name: str
    csv: CsvPart
    frame: int | None
    hub: int

    def of(self, event: FlagEvent) -> Any:
        """The column's value in ``event``."""
        return getattr(event, self.attribute)


#: Every event attribute that is a column, in the order of the CSV layouts.
# fmt: off
META_COLUMNS: tuple[MetaColumn, ...] = (
    #          attribute     name          csv_name      csv      frame  hub
    MetaColumn("option",     "option",     "flag",       "head",  0,     0),
    MetaColumn("username",   "username",   "username",   "head",  1,     1),
    MetaColumn("created_at", "timestamp",  "timestamp",  "head",  3,     3),
    MetaColumn("comment",    "comment",    "comment",    "extra", 2,     2),
    MetaColumn("session_id", "session_id", "session_id", "extra", 6,     7),
    MetaColumn("app",        "app",        "app",        "extra", 7,     6),
    MetaColumn("mode",       "mode",       "mode",       "extra", 5,     5),
    MetaColumn("metadata",   "metadata",   "metadata",   "extra", None,  8),
    MetaColumn("id",         "id",         "id",         "id",    4,     4),
)
# fmt: on

_BY_CSV_NAME = {column.csv_name: column for column in META_COLUMNS}

#: The columns every CSV layout has after the fields: ``flag``, ``username``, ``timestamp``.
CSV_HEAD = tuple(c for c in META_COLUMNS if c.csv == "head")
#: The extra columns a CSV layout may add after ``timestamp``, in the export's order.
CSV_EXTRAS = tuple(c for c in META_COLUMNS if c.csv == "extra")
_CSV_ID = tuple(c for c in META_COLUMNS if c.csv == "id")


def csv_columns(extras: Iterable[str] = (), *, id_column: bool = True) -> tuple[MetaColumn, ...]:
    """The columns of a CSV layout after the fields: the head, ``extras`` (CSV names, in that order), ``id``.

    :raises KeyError: for a name that is not an extra column.
    """
    chosen = []
    for name in extras:
        column = _BY_CSV_NAME.get(name)
        if column is None or column.csv != "extra":
            raise KeyError(f"{name!r} is not an extra CSV column; choose from {', '.join(names(CSV_EXTRAS))}")
        chosen.append(column)
    return (*CSV_HEAD, *chosen, *(_CSV_ID if id_column else ()))


def names(columns: Iterable[MetaColumn], *, csv: bool = False) -> tuple[str, ...]:
    """The columns' names (their CSV names with ``csv``)."""
    return tuple(c.csv_name if csv else c.name for c in columns)


def _ordered(place: str) -> tuple[MetaColumn, ...]:
    placed = [c for c in META_COLUMNS if getattr(c, place) is not None]
    return tuple(sorted(placed, key=lambda c: getattr(c, place)))


#: The columns of ``flagpipe export --format csv`` after the fields: every extra column, then ``id``.
EXPORT_CSV_COLUMNS = csv_columns(names(CSV_EXTRAS, csv=True))
#: A DataFrame's event columns, after the fields and before ``metadata.*``.
FRAME_COLUMNS = _ordered("frame")
#: The event keys of an exported JSONL record: the frame's event columns, then ``metadata``.
JSONL_COLUMNS = (*FRAME_COLUMNS, *(c for c in META_COLUMNS if c.frame is None))
#: A Hub shard's event columns, after the fields.
HUB_COLUMNS = _ordered("hub")
