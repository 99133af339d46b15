"""Database errors become the right delivery errors, whichever driver raised them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import flagpipe
from flagpipe.plugins.sql.errors import classify, kind_of, scrub
from flagpipe.plugins.sql.migrations import NewerSchemaError


class PgError(Exception):
    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(kind: type[sa.exc.DBAPIError], orig: Exception) -> sa.exc.DBAPIError:
    return kind("INSERT ...", {"secret": "row data"}, orig)


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("08006", "retry"),  # connection failure
        ("40001", "retry"),  # serialization failure
        ("40P01", "retry"),  # deadlock
        ("57P01", "retry"),  # admin shutdown (pg_terminate_backend)
        ("57P03", "retry"),  # the server is starting up
        ("57014", "retry"),  # statement timeout
        ("53300", "retry"),  # too many connections
        ("28P01", "disable"),  # wrong password
        ("28000", "disable"),  # no such role
        ("42501", "disable"),  # permission denied
        ("3D000", "disable"),  # no such database
        ("42P01", "missing_table"),
        ("22001", "reject"),  # value too long
        ("23502", "reject"),  # not null
    ],
)
def test_postgres_sqlstates(sqlstate: str, expected: str) -> None:
    assert kind_of(wrapped(sa.exc.OperationalError, PgError("x", sqlstate)), "postgresql") == expected


@pytest.mark.parametrize(
    ("errno", "kind", "expected"),
    [
        (2003, sa.exc.OperationalError, "retry"),  # can't connect
        (2013, sa.exc.OperationalError, "retry"),  # lost connection
        (1927, sa.exc.OperationalError, "retry"),  # connection killed
        (1213, sa.exc.OperationalError, "retry"),  # deadlock
        (1205, sa.exc.OperationalError, "retry"),  # lock wait timeout
        (1045, sa.exc.OperationalError, "disable"),  # access denied (password)
        (1142, sa.exc.ProgrammingError, "disable"),  # INSERT command denied
        (1049, sa.exc.OperationalError, "disable"),  # unknown database
        (1146, sa.exc.ProgrammingError, "missing_table"),
        (1406, sa.exc.DataError, "reject"),  # data too long
    ],
)
def test_mysql_error_numbers(errno: int, kind: type[sa.exc.DBAPIError], expected: str) -> None:
    assert kind_of(wrapped(kind, Exception(errno, "message")), "mysql") == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("database is locked", "retry"),
        ("attempt to write a readonly database", "disable"),
        ("unable to open database file", "disable"),
        ("no such table: flagpipe_flags", "missing_table"),
        ("database or disk is full", "retry"),
    ],
)
def test_sqlite_messages(message: str, expected: str) -> None:
    assert kind_of(wrapped(sa.exc.OperationalError, Exception(message)), "sqlite") == expected


def test_connection_errors_without_a_code() -> None:
    refused = PgError('connection to server at "127.0.0.1", port 5432 failed: Connection refused', None)
    assert kind_of(wrapped(sa.exc.OperationalError, refused), "postgresql") == "retry"
    auth = PgError('FATAL:  password authentication failed for user "app"', None)
    assert kind_of(wrapped(sa.exc.OperationalError, auth), "postgresql") == "disable"
    assert kind_of(sa.exc.TimeoutError("QueuePool limit reached"), "postgresql") == "retry"


def test_classify_builds_the_contract_errors_and_hides_secrets_and_rows() -> None:
    exc = wrapped(sa.exc.OperationalError, PgError("auth failed for hunter22", "28P01"))
    error = classify(
        exc, dialect="postgresql", doing="writing", where="postgresql://app:***@db/flags", secrets=["hunter22"]
    )
    assert isinstance(error, flagpipe.DestinationDisabledError)
    assert "hunter22" not in str(error)
    assert "row data" not in str(error)
    assert "flagpipe retry" in str(error)
    retry = classify(
        wrapped(sa.exc.OperationalError, PgError("gone", "57P01")),
        dialect="postgresql",
        doing="w",
        where="w",
        secrets=[],
    )
    assert type(retry) is flagpipe.RetryableError
    reject = classify(
        wrapped(sa.exc.DataError, PgError("too long", "22001")), dialect="postgresql", doing="w", where="w", secrets=[]
    )
    assert type(reject) is flagpipe.PermanentError
    newer = classify(NewerSchemaError("newer"), dialect="sqlite", doing="w", where="w", secrets=[])
    assert isinstance(newer, flagpipe.DestinationDisabledError)


def test_scrub_leaves_short_secrets_alone() -> None:
    assert scrub("a password xyz123 here", ["xyz123", "a"]) == "a password *** here"
