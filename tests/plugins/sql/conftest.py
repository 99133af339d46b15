"""Databases for the sql callback's tests: SQLite always, PostgreSQL and MariaDB/MySQL when reachable.

The servers come from ``FLAGPIPE_TEST_POSTGRES_URL`` / ``FLAGPIPE_TEST_MYSQL_URL`` (defaults: the
local servers of the project's machines). A test that needs one skips, with a one-line reason, when it
is unreachable; under ``CI=true`` it fails instead, so CI never skips them silently. Each test gets its
own PostgreSQL schema or MariaDB table prefix (or database), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Read at import time: the suite's autouse fixture removes every FLAGPIPE_* variable during a test.
POSTGRES_URL = os.environ.get("FLAGPIPE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("FLAGPIPE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER_URLS = {"postgresql": POSTGRES_URL, "mysql": MYSQL_URL}
SERVER_VARIABLES = {"postgresql": "FLAGPIPE_TEST_POSTGRES_URL", "mysql": "FLAGPIPE_TEST_MYSQL_URL"}

_reachable: dict[str, str | None] = {}


def unreachable_reason(url: str) -> str | None:
    """Why the server at ``url`` cannot be used (one line), or None when a query works."""
    if url not in _reachable:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            _reachable[url] = None
        except Exception as exc:  # noqa: BLE001 - any failure means: not usable here
            _reachable[url] = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        finally:
            engine.dispose()
    return _reachable[url]


def require_server(kind: str, url: str | None = None, *, ci: bool | None = None) -> str:
    """Return the server's URL; skip the test when unreachable, or fail it under ``CI=true``."""
    url = url or SERVER_URLS[kind]
    reason = unreachable_reason(url)
    if reason is None:
        return url
    ci = os.environ.get("CI", "").lower() == "true" if ci is None else ci
    where = sa.make_url(url).render_as_string(hide_password=True)
    message = f"{kind} at {where} is unreachable ({reason}); set {SERVER_VARIABLES[kind]}"
    if ci:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs inside the block (SQLAlchemy's own event, not a stand-in)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)


def unique(prefix: str) -> str:
    """A fresh lower-case name for a schema, database, table prefix or role."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class Database:
    """One test's database: the settings to give the sql callback, and an admin engine to look inside."""

    kind: str
    url: str
    settings: dict[str, Any]
    admin: sa.Engine
    directory: Path | None = None
    cleanups: list[Any] = field(default_factory=list)

    @property
    def schema(self) -> str | None:
        """The test's schema, if it uses one."""
        return self.settings.get("schema")

    @property
    def prefix(self) -> str:
        """The test's table prefix."""
        return str(self.settings.get("table_prefix", "flagpipe_"))

    def table(self, name: str = "flags") -> sa.Table:
        """A reflected table of the callback's (``flags``, ``blobs``, ``version``)."""
        return sa.Table(f"{self.prefix}{name}", sa.MetaData(schema=self.schema), autoload_with=self.admin)

    def ids(self) -> list[str]:
        """The ids in the flags table, in flag order, repeats included."""
        table = self.table()
        with self.admin.connect() as conn:
            query = sa.select(table.c.id).order_by(table.c.created_at, table.c.id)
            return [row[0] for row in conn.execute(query)]

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run one statement as the admin, committed; return its rows (if any)."""
        with self.admin.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return list(result) if result.returns_rows else []


def _sqlite(tmp_path: Path) -> Iterator[Database]:
    directory = tmp_path / "flagged"
    directory.mkdir(exist_ok=True)
    admin = sa.create_engine(f"sqlite:///{directory / 'flags.db'}")
    database = Database("sqlite", "sqlite:///flags.db", {"url": "sqlite:///flags.db"}, admin, directory)
    try:
        yield database
    finally:
        for cleanup in reversed(database.cleanups):
            cleanup()
        admin.dispose()


def _postgres() -> Iterator[Database]:
    url = require_server("postgresql")
    schema = unique("fp_test_")
    admin = sa.create_engine(url, poolclass=sa.NullPool)
    database = Database("postgresql", url, {"url": url, "schema": schema}, admin)
    try:
        yield database
    finally:
        for cleanup in reversed(database.cleanups):
            cleanup()
        database.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def _mysql() -> Iterator[Database]:
    url = require_server("mysql")
    prefix = unique("t") + "_"
    admin = sa.create_engine(url, poolclass=sa.NullPool)
    database = Database("mysql", url, {"url": url, "table_prefix": prefix}, admin)
    try:
        yield database
    finally:
        for cleanup in reversed(database.cleanups):
            cleanup()
        for name in ("flags", "blobs", "version"):
            database.execute(f"DROP TABLE IF EXISTS {prefix}{name}")
        admin.dispose()


def open_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """The test database of ``kind`` (``sqlite``, ``postgresql``, ``mysql``), cleaned up after."""
    if kind == "sqlite":
        return _sqlite(tmp_path)
    return _postgres() if kind == "postgresql" else _mysql()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Each test once per database."""
    yield from open_database(request.param, tmp_path)


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Database]:
    """A PostgreSQL schema of this test's own."""
    yield from _postgres()


@pytest.fixture
def mysql(tmp_path: Path) -> Iterator[Database]:
    """A MariaDB/MySQL table prefix of this test's own."""
    yield from _mysql()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    """A SQLite file in this test's flagging dir (``tmp_path / "flagged"``)."""
    yield from _sqlite(tmp_path)
