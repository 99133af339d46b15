"""The sql callback passes the plugin-author kit's contract on SQLite, PostgreSQL and MariaDB/MySQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from flagpipe.plugins.sql import SQLCallback
from flagpipe.testing import CallbackContract

from .conftest import unique

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import Callback

    from .conftest import Database

#: A port nothing listens on: connections are refused, as when the server is down.
CLOSED_PORT = 1


def _make_ready(callback: Callback[Any]) -> SQLCallback:
    """Create the callback's tables now, as its first delivery would."""
    assert isinstance(callback, SQLCallback)
    callback._ensure_ready()
    return callback


def _swap_engine(callback: Callback[Any], url: str | sa.URL, **connect_args: Any) -> None:
    """Point an already set-up callback at another URL (its tables are known to be ready)."""
    _make_ready(callback)._engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.NullPool)


class _SQLContract(CallbackContract):
    callback_class = SQLCallback
    db: Database

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        # PostgreSQL trusts local connections, so a password setting is ignored there: it exercises the secrets test
        return (
            {**self.db.settings, "password": "not-a-real-password"}
            if self.db.kind == "postgresql"
            else self.db.settings
        )

    def stored_ids(self, directory: Path) -> list[str]:
        return self.db.ids()

    def fail_retryably(self, callback: Callback[Any]) -> None:
        url = sa.make_url(self.db.url).set(port=CLOSED_PORT)
        _swap_engine(callback, url, connect_timeout=2)


class TestSQLiteContract(_SQLContract):
    @pytest.fixture(autouse=True)
    def _db(self, sqlite: Database) -> None:
        self.db = sqlite

    def fail_retryably(self, callback: Callback[Any]) -> None:
        # another process holds the write lock for longer than the callback waits
        assert self.db.directory is not None
        _make_ready(callback)
        blocker = sa.create_engine(f"sqlite:///{self.db.directory / 'flags.db'}", poolclass=sa.NullPool)
        connection = blocker.connect()
        connection.exec_driver_sql("BEGIN EXCLUSIVE")
        self.db.cleanups.append(connection.close)
        _swap_engine(callback, f"sqlite:///{self.db.directory / 'flags.db'}", timeout=0.2)

    def fail_permanently(self, callback: Callback[Any]) -> None:
        assert self.db.directory is not None
        read_only = f"sqlite:///file:{self.db.directory / 'flags.db'}?mode=ro&uri=true"
        _swap_engine(callback, read_only)


class TestPostgresContract(_SQLContract):
    @pytest.fixture(autouse=True)
    def _db(self, postgres: Database) -> None:
        self.db = postgres

    def fail_permanently(self, callback: Callback[Any]) -> None:
        # a role that may read the flags but not insert them
        _make_ready(callback)
        role = unique("fp_reader_")
        self.db.execute(f"CREATE ROLE {role} LOGIN")
        self.db.cleanups.append(lambda: self.db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}"))
        self.db.execute(f"GRANT USAGE ON SCHEMA {self.db.schema} TO {role}")
        self.db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {self.db.schema} TO {role}")
        _swap_engine(callback, sa.make_url(self.db.url).set(username=role))


class TestMySQLContract(_SQLContract):
    @pytest.fixture(autouse=True)
    def _db(self, mysql: Database) -> None:
        self.db = mysql

    def fail_permanently(self, callback: Callback[Any]) -> None:
        _make_ready(callback)
        user = unique("fp_reader_")
        database = sa.make_url(self.db.url).database
        self.db.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'reader-pass'")
        self.db.cleanups.append(lambda: self.db.execute(f"DROP USER '{user}'@'%'"))
        self.db.execute(f"GRANT SELECT ON {database}.* TO '{user}'@'%'")
        _swap_engine(callback, sa.make_url(self.db.url).set(username=user, password="reader-pass"))
