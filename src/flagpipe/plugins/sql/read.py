"""Read flags back from a ``sql`` callback's database, filtered and aggregated in SQL.

:func:`read_events` returns the stored flags as :class:`flagpipe.FlagEvent` objects (equal to the ones
delivered), with the ``since``, ``options`` and ``apps`` filters in the ``WHERE`` clause.
:func:`flag_stats` counts flags by option, by day (UTC) and by user with ``GROUP BY``, so it stays fast
at millions of rows. Both take the database URL (and ``table_prefix`` / ``schema`` when they differ
from the callback's defaults), so ``read_flags(URL)`` and ``flagpipe stats --from URL`` are thin calls.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import sqlalchemy as sa

from flagpipe.core.sources import FlagFilter, count_redactions, ranked
from flagpipe.plugins.sql.engine import create_engine
from flagpipe.plugins.sql.rows import event_from_row, to_db_time
from flagpipe.plugins.sql.settings import SQLSettings
from flagpipe.plugins.sql.tables import Tables, build_tables

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime
    from pathlib import Path

    from typing_extensions import Unpack

    from flagpipe import FlagEvent


T = TypeVar("T")


def where(flag_filter: FlagFilter, tables: Tables, dialect: str) -> list[sa.ColumnElement[bool]]:
    """``flag_filter`` as ``WHERE`` conditions on ``tables.flags``."""
    flags = tables.flags
    conditions: list[sa.ColumnElement[bool]] = []
    if flag_filter.since is not None:
        conditions.append(flags.c.created_at >= to_db_time(flag_filter.since, dialect))
    for column, wanted in ((flags.c.option, flag_filter.options), (flags.c.app, flag_filter.apps)):
        if wanted is None:
            continue
        values = [v for v in wanted if v is not None]
        either = [column.in_(values)] if values else []
        if None in wanted:
            either.append(column.is_(None))
        conditions.append(sa.or_(*either) if either else sa.false())
    return conditions


def open_database(
    url: str, *, table_prefix: str = "flagpipe_", schema: str | None = None, directory: Path | None = None
) -> tuple[sa.Engine, Tables]:
    """An engine and the table descriptions for ``url`` (a relative SQLite file is under ``directory``)."""
    settings = SQLSettings.model_validate({"url": url, "table_prefix": table_prefix, "schema": schema})
    return create_engine(settings, directory), build_tables(table_prefix, schema)


def iter_events(engine: sa.Engine, tables: Tables, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
    """Yield the stored flags in flag order (time, then id), streamed in chunks."""
    flags = tables.flags
    query = (
        _select(tables)
        .where(*where(flag_filter or FlagFilter(), tables, engine.dialect.name))
        .order_by(flags.c.created_at, flags.c.id)
    )
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=1000).execute(query):
            yield event_from_row(row)


def _select(tables: Tables) -> sa.Select[Any]:
    """The columns an event is rebuilt from (all but ``stored_at``)."""
    return sa.select(*[c for c in tables.flags.c if c.name != "stored_at"])


def latest_events(
    engine: sa.Engine, tables: Tables, limit: int, flag_filter: FlagFilter | None = None
) -> list[FlagEvent]:
    """The newest ``limit`` flags that pass the filter (``ORDER BY ... DESC LIMIT``), oldest first."""
    flags = tables.flags
    query = (
        _select(tables)
        .where(*where(flag_filter or FlagFilter(), tables, engine.dialect.name))
        .order_by(flags.c.created_at.desc(), flags.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [event_from_row(row) for row in reversed(list(conn.execute(query)))]


class Query(TypedDict, total=False):
    """Where the flags are and which to take: the keywords of :func:`read_events` and :func:`flag_stats`.

    :ivar since: only flags made at or after this time.
    :ivar options: only flags with one of these options (None for flags without one).
    :ivar apps: only flags of these apps.
    :ivar table_prefix: the prefix of the callback's tables (``flagpipe_`` by default).
    :ivar schema: the PostgreSQL schema of the tables.
    :ivar directory: where a relative SQLite file is.
    """

    since: datetime | None
    options: Iterable[str | None] | None
    apps: Iterable[str | None] | None
    table_prefix: str
    schema: str | None
    directory: Path | None


def _at(url: str, query: Query, work: Callable[[sa.Engine, Tables, FlagFilter], T]) -> T:
    """Open the database at ``url``, run ``work`` with the query's filter, and always dispose of it."""
    engine, tables = open_database(
        url,
        table_prefix=query.get("table_prefix", "flagpipe_"),
        schema=query.get("schema"),
        directory=query.get("directory"),
    )
    try:
        return work(engine, tables, FlagFilter.of(query.get("since"), query.get("options"), query.get("apps")))
    finally:
        engine.dispose()


def read_events(url: str, **query: Unpack[Query]) -> list[FlagEvent]:
    """The flags stored at ``url`` that pass the filters (see :class:`Query`), in flag order."""
    return _at(url, query, lambda engine, tables, where: list(iter_events(engine, tables, where)))


def _day(column: Any, dialect: str) -> sa.ColumnElement[Any]:
    """The UTC calendar day of a stored time, as ``YYYY-MM-DD`` text."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    if dialect in ("mysql", "mariadb"):
        return sa.func.date_format(column, "%Y-%m-%d")
    return sa.func.substr(column, 1, 10)  # SQLite keeps ISO text, naive UTC


def stats(engine: sa.Engine, tables: Tables, flag_filter: FlagFilter | None = None) -> dict[str, Any]:
    """Flags counted in SQL: ``total``, ``by_option``, ``by_day`` (UTC), ``by_user`` and ``redacted``.

    The shape is that of ``flagpipe stats --json`` (without ``latest``); counts are sorted largest
    first (ties as :func:`flagpipe.core.sources.ranked` orders them), days in calendar order.
    """
    flags = tables.flags
    conditions = where(flag_filter or FlagFilter(), tables, engine.dialect.name)
    count = sa.func.count().label("count")
    day = _day(flags.c.created_at, engine.dialect.name).label("day")
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(flags).where(*conditions)).scalar_one()

        def grouped(column: Any) -> list[tuple[Any, int]]:
            query = sa.select(column, count).where(*conditions).group_by(column)
            return [(row[0], int(row[1])) for row in conn.execute(query)]

        by_option = ranked(grouped(flags.c.option))
        by_user = ranked(grouped(flags.c.username))
        by_day = sorted(grouped(day))
        found = flags.c.metadata["redacted"]  # only the flags redaction changed are read
        redacted = count_redactions(
            _json_value(value) for (value,) in conn.execute(sa.select(found).where(*conditions, found.is_not(None)))
        )
    counts: dict[str, Any] = {
        "total": int(total),
        "by_option": [{"option": k, "count": v} for k, v in by_option],
        "by_day": [{"day": k, "count": v} for k, v in by_day],
        "by_user": [{"username": k, "count": v} for k, v in by_user],
    }
    if redacted is not None:
        counts["redacted"] = redacted
    return counts


def _json_value(value: Any) -> Any:
    """A JSON value as the driver returns it: parsed already, or JSON text (MariaDB's JSON is text)."""
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def count(engine: sa.Engine, tables: Tables, flag_filter: FlagFilter | None = None) -> int:
    """How many stored flags pass the filter (one ``COUNT(*)``)."""
    conditions = where(flag_filter or FlagFilter(), tables, engine.dialect.name)
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tables.flags).where(*conditions)).scalar_one())


def flag_stats(url: str, **query: Unpack[Query]) -> dict[str, Any]:
    """:func:`stats` of the flags stored at ``url`` that pass the filters (see :class:`Query`)."""
    return _at(url, query, stats)


__all__ = [
    "FlagFilter",
    "Query",
    "count",
    "flag_stats",
    "iter_events",
    "latest_events",
    "open_database",
    "read_events",
    "stats",
    "where",
]
