"""The version of the ``sql`` callback's tables: create them, upgrade them, refuse a newer layout.

Versioned DDL shipped in the package (no Alembic; ``docs/design.md`` says why). ``<prefix>version``
holds one row with the layout's version. A database without the tables gets the current layout at
once and is stamped :data:`SQL_SCHEMA_VERSION`; an older one runs the steps of :data:`MIGRATIONS` in
order; a newer one (written by a newer flagpipe) is refused. Creation and upgrades hold a lock
(an advisory lock on PostgreSQL, ``GET_LOCK`` on MariaDB/MySQL), so replicas starting together do
the work once.
"""

from __future__ import annotations

import contextlib
import zlib
from typing import TYPE_CHECKING

import sqlalchemy as sa

import flagpipe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from flagpipe.plugins.sql.tables import Tables

#: The version of the table layout this flagpipe writes.
SQL_SCHEMA_VERSION = 1

#: Steps from version ``n - 1`` to ``n``, keyed by ``n`` (none yet: 1 is the first layout). Each
#: step gets the connection and the tables of the *current* layout, and runs plain DDL.
MIGRATIONS: dict[int, Callable[[sa.Connection, Tables], None]] = {}

_LOCK_SECONDS = 60


class SchemaVersionError(Exception):
    """The tables' version does not match this flagpipe: newer, or older and not to be upgraded here."""


class NewerSchemaError(SchemaVersionError):
    """The tables were written by a newer flagpipe."""


class MissingSchemaError(SchemaVersionError):
    """The tables are missing or older, and this callback may not run DDL (``create_tables: false``)."""


def stored_version(conn: sa.Connection, tables: Tables) -> int | None:
    """The layout version recorded in the database, or None when there are no tables yet."""
    if not sa.inspect(conn).has_table(tables.version.name, schema=tables.version.schema):
        return None
    row = conn.execute(sa.select(tables.version.c.version).where(tables.version.c.name == "schema")).first()
    return None if row is None else int(row[0])


def check_version(version: int | None, tables: Tables) -> None:
    """Raise when ``version`` is not the one this flagpipe writes."""
    where = f"{tables.version.schema + '.' if tables.version.schema else ''}{tables.version.name}"
    if version is not None and version > SQL_SCHEMA_VERSION:
        raise NewerSchemaError(
            f"the flag tables have layout version {version} ({where}), written by a newer flagpipe; this one "
            f"knows up to {SQL_SCHEMA_VERSION}: upgrade flagpipe on this replica (flags stay in the journal)"
        )
    if version != SQL_SCHEMA_VERSION:
        state = "do not exist" if version is None else f"have the older layout version {version}"
        raise MissingSchemaError(
            f"the flag tables ({where}) {state} and create_tables is false: run "
            "'flagpipe sql init --config CONFIG' as a user that may create tables (flags stay in the journal)"
        )


def ensure_schema(engine: sa.Engine, tables: Tables, *, create: bool) -> int:
    """Make the tables match this flagpipe's layout, creating or upgrading them when ``create``.

    :returns: the version now in the database.
    :raises NewerSchemaError: the tables are newer than this flagpipe.
    :raises MissingSchemaError: they are missing or older and ``create`` is false.
    """
    with engine.connect() as conn:
        version = stored_version(conn, tables)
        conn.rollback()
    if version == SQL_SCHEMA_VERSION or not create:
        check_version(version, tables)
        return SQL_SCHEMA_VERSION
    for attempt in range(3):
        try:
            return _create_or_upgrade(engine, tables)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
            # a replica without a lock (SQLite) created the same table a moment earlier: look again
            if "exist" not in str(exc.orig).lower() or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _create_or_upgrade(engine: sa.Engine, tables: Tables) -> int:
    with engine.connect() as conn, _schema_lock(conn, tables):
        schema = tables.version.schema
        if schema is not None and not sa.inspect(conn).has_schema(schema):
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            conn.commit()
        version = stored_version(conn, tables)
        if version is not None and version >= SQL_SCHEMA_VERSION:
            check_version(version, tables)
            return version
        if version is None:
            tables.metadata.create_all(conn, checkfirst=True)
        else:
            for step in range(version + 1, SQL_SCHEMA_VERSION + 1):
                MIGRATIONS[step](conn, tables)
        _stamp(conn, tables, version)
        conn.commit()
        return SQL_SCHEMA_VERSION


def _stamp(conn: sa.Connection, tables: Tables, previous: int | None) -> None:
    values = {"version": SQL_SCHEMA_VERSION, "written_by": flagpipe.__version__}
    if previous is None:
        conn.execute(sa.insert(tables.version).values(name="schema", **values))
    else:
        conn.execute(sa.update(tables.version).where(tables.version.c.name == "schema").values(**values))


@contextlib.contextmanager
def _schema_lock(conn: sa.Connection, tables: Tables) -> Iterator[None]:
    """Hold a database-wide lock named after the tables while creating or upgrading them."""
    name = f"flagpipe:{tables.version.schema or ''}:{tables.version.name}"
    dialect = conn.dialect.name
    if dialect == "postgresql":
        key = zlib.crc32(name.encode())
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            conn.rollback()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
    elif dialect in ("mysql", "mariadb"):
        got = conn.execute(sa.text("SELECT GET_LOCK(:name, :wait)"), {"name": name[:64], "wait": _LOCK_SECONDS})
        if got.scalar() != 1:
            raise sa.exc.OperationalError("GET_LOCK", {}, Exception(f"timed out waiting for the lock {name}"))
        try:
            yield
        finally:
            conn.rollback()
            conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": name[:64]})
            conn.commit()
    else:
        yield


def ddl_statements(url: sa.URL, tables: Tables) -> list[str]:
    """The DDL that creates the tables at ``url`` and stamps their version, one statement each (no connection)."""
    statements: list[str] = []

    def record(sql: sa.ClauseElement, *_: object, **__: object) -> None:
        statements.append(str(sql.compile(dialect=mock.dialect)).strip())

    mock = sa.create_mock_engine(url.set(password=None), record)
    schema = tables.version.schema
    if schema is not None:
        record(sa.schema.CreateSchema(schema, if_not_exists=True))
    tables.metadata.create_all(mock, checkfirst=False)
    statements[:] = _indexes_sorted(statements)
    stamp = sa.insert(tables.version).values(name="schema", version=SQL_SCHEMA_VERSION, written_by=flagpipe.__version__)
    statements.append(str(stamp.compile(dialect=mock.dialect, compile_kwargs={"literal_binds": True})))
    return statements


def _indexes_sorted(statements: list[str]) -> list[str]:
    """The statements with each run of ``CREATE INDEX`` sorted by text, so the listing is stable."""
    result: list[str] = []
    run: list[str] = []
    for statement in [*statements, ""]:
        if statement.startswith("CREATE INDEX"):
            run.append(statement)
            continue
        result += sorted(run)
        run = []
        if statement:
            result.append(statement)
    return result
