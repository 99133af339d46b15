"""The ``sql`` callback's database as a :class:`flagpipe.FlagSource`: ``read_flags(URL)`` and ``--from URL``.

:func:`open_source` answers ``flagpipe_open_flag_source`` for SQLAlchemy URLs of the databases the
callback writes to (``sqlite:///``, ``postgresql[+driver]://``, ``mysql[+driver]://``,
``mariadb[+driver]://``) and None for anything else. Where the tables are comes from the URL's query
(``?table_prefix=...&schema=...``, removed before connecting) or from ``storage_options`` (keys
``table_prefix``, ``schema``, ``directory``, ``password``). Nothing connects until the first read;
every read filters and counts in SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.sources import FlagFilter, FlagSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import sqlalchemy as sa

    from flagpipe import FlagEvent
    from flagpipe.plugins.sql.tables import Tables

#: URL schemes (before any ``+driver``) this source reads.
BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")
#: Keys of ``storage_options`` (and of the URL's query, but ``directory`` and ``password``) it uses.
OPTION_KEYS = ("table_prefix", "schema", "directory", "password")


def recognises(source: str) -> bool:
    """True when ``source`` is a URL of a database the ``sql`` callback writes to."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.lower().split("+", 1)[0] in BACKENDS


def _split_options(source: str, storage_options: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL without flagpipe's query keys, and the options from both (``storage_options`` wins)."""
    import sqlalchemy as sa

    try:
        url = sa.make_url(source)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"cannot read flags from {_hidden(source)}: not a database URL ({exc})") from None
    options: dict[str, Any] = {k: url.query[k] for k in ("table_prefix", "schema") if k in url.query}
    options.update((k, v) for k, v in storage_options.items() if k in OPTION_KEYS)
    url = url.difference_update_query(["table_prefix", "schema"])
    return url.render_as_string(hide_password=False), options


def _hidden(url: str) -> str:
    from flagpipe.plugins.sql.settings import hide_password

    return hide_password(url)


class SQLFlagSource(FlagSource):
    """The flags a ``sql`` callback stored, read with the filters in ``WHERE`` and counts in ``GROUP BY``."""

    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        from flagpipe.plugins.sql.settings import SQLSettings

        directory = options.get("directory")
        self._base = None if directory is None else Path(directory).expanduser().resolve()
        self.settings = SQLSettings.model_validate(
            {
                "url": url,
                "table_prefix": options.get("table_prefix", "flagpipe_"),
                "schema": options.get("schema"),
                "password": options.get("password"),
            }
        )
        self.description = self.settings.safe_url
        self.directory = self._base if self._base is not None else self._sqlite_folder()
        self._engine: sa.Engine | None = None
        self._tables: Tables | None = None

    def _sqlite_folder(self) -> Path | None:
        """The folder of a SQLite file (the flagging dir, where the callback puts ``flags.db``)."""
        backend, _, rest = self.settings.url.get_secret_value().partition("://")
        if backend.split("+", 1)[0].lower() != "sqlite":
            return None
        database = rest[1:].split("?", 1)[0]  # sqlite:///relative.db, sqlite:////absolute.db
        if not database or database == ":memory:":
            return None
        return Path(database).expanduser().resolve().parent

    def _open(self) -> tuple[sa.Engine, Tables]:
        if self._engine is None or self._tables is None:
            from flagpipe.plugins.sql.engine import create_engine, database_url
            from flagpipe.plugins.sql.tables import build_tables

            if self._base is not None and not self._base.is_dir():
                raise ValueError(f"cannot read flags from {self.description}: no such directory {self._base}")
            url = database_url(self.settings, self._base)
            file = url.database if url.get_backend_name() == "sqlite" and url.database != ":memory:" else None
            if file and not Path(file).is_file():  # reading must not create an empty database
                raise ValueError(f"cannot read flags from {self.description}: no such SQLite file {file}")
            self._engine = self._guard(lambda: create_engine(self.settings, self._base), "connecting")
            self._tables = build_tables(self.settings.table_prefix, self.settings.db_schema)
        return self._engine, self._tables

    def _guard(self, work: Callable[[], Any], doing: str) -> Any:
        """Run ``work``; a database error becomes a ``ValueError`` naming the database (password hidden)."""
        import sqlalchemy as sa

        from flagpipe.plugins.sql.errors import kind_of, scrub

        try:
            return work()
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            detail = scrub(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], self.settings.secrets())
            dialect = self._engine.dialect.name if self._engine is not None else ""
            if kind_of(exc, dialect) == "missing_table":
                schema = f"{self.settings.db_schema}." if self.settings.db_schema else ""
                detail = f"no table {schema}{self.settings.table_prefix}flags (wrong table_prefix or schema?): {detail}"
            raise ValueError(f"cannot read flags from {self.description} while {doing}: {detail}") from None

    def events(self, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
        """The stored flags that pass the filter (in ``WHERE``), oldest first, streamed in chunks."""
        from flagpipe.plugins.sql.read import iter_events

        engine, tables = self._open()
        stream = self._guard(lambda: iter_events(engine, tables, flag_filter), "reading")
        while True:
            event = self._guard(lambda: next(stream, None), "reading")
            if event is None:
                return
            yield event

    def latest(self, limit: int, flag_filter: FlagFilter | None = None) -> list[FlagEvent]:
        """The newest ``limit`` flags (``ORDER BY created_at DESC LIMIT``), oldest first."""
        from flagpipe.plugins.sql.read import latest_events

        if limit <= 0:
            return []
        engine, tables = self._open()
        result: list[FlagEvent] = self._guard(lambda: latest_events(engine, tables, limit, flag_filter), "reading")
        return result

    def count(self, flag_filter: FlagFilter | None = None) -> int:
        """How many stored flags pass the filter (one ``COUNT(*)``)."""
        from flagpipe.plugins.sql.read import count

        engine, tables = self._open()
        return int(self._guard(lambda: count(engine, tables, flag_filter), "counting"))

    def stats(self, flag_filter: FlagFilter | None = None) -> dict[str, Any]:
        """Counts by option, day (UTC) and user, each one ``GROUP BY`` query."""
        from flagpipe.plugins.sql.read import stats

        engine, tables = self._open()
        result: dict[str, Any] = self._guard(lambda: stats(engine, tables, flag_filter), "counting")
        return result

    def close(self) -> None:
        """Close the pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def open_source(source: str, storage_options: Mapping[str, Any]) -> SQLFlagSource | None:
    """A :class:`SQLFlagSource` for a database URL, or None for a source that is not one."""
    if not recognises(source):
        return None
    url, options = _split_options(source, storage_options)
    return SQLFlagSource(url, options)


__all__ = ["BACKENDS", "SQLFlagSource", "open_source", "recognises"]
