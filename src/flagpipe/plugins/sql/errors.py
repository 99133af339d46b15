"""Turn database errors into the delivery errors of the callback contract.

- Passing problems (connection refused or cut, the server starting or shutting down, deadlocks,
  serialization failures, lock and statement timeouts, too many connections): ``RetryableError``.
- Problems no retry fixes while nobody acts (authentication failed, a missing permission, a missing
  database, tables from a newer flagpipe, a missing driver): ``DestinationDisabledError``, so the lane
  stops with a clear message and the flags stay in the journal until ``flagpipe retry``.
- A value the database refuses (too long, invalid): ``PermanentError`` for that batch only.

Messages never hold the URL's password, nor the SQL parameters (flag contents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flagpipe
from flagpipe.plugins.sql.migrations import MissingSchemaError, NewerSchemaError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: PostgreSQL SQLSTATE classes and codes that pass by themselves.
PG_RETRYABLE = ("08", "40001", "40P01", "53", "55P03", "57014", "57P01", "57P02", "57P03", "58")
#: PostgreSQL SQLSTATEs that mean "fix the credentials, the grants or the database first".
PG_DISABLING = ("28", "42501", "3D000", "3F000")
#: PostgreSQL SQLSTATEs of a missing table (dropped, or never created).
PG_MISSING_TABLE = ("42P01",)

#: MariaDB/MySQL error numbers that pass by themselves.
MYSQL_RETRYABLE = frozenset(
    {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2014, 2055, 3024, 4031, 1158, 1159, 1160, 1161}
)
#: MariaDB/MySQL error numbers that mean "fix the credentials, the grants or the database first".
MYSQL_DISABLING = frozenset({1044, 1045, 1049, 1142, 1143, 1227, 1370, 1698, 1131, 1132})
#: MariaDB/MySQL error number of a missing table.
MYSQL_MISSING_TABLE = frozenset({1146})

#: Words in a connection error (no SQLSTATE yet) that mean the credentials or database are wrong.
AUTH_WORDS = (
    "password authentication failed",
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "access denied",
    "permission denied",
)
#: Words in a SQLite error that pass by themselves.
SQLITE_RETRYABLE_WORDS = ("locked", "busy", "disk i/o", "full", "interrupted")
#: Words in a SQLite error that need a person (a read-only file, a folder that cannot be opened).
SQLITE_DISABLING_WORDS = ("readonly", "read-only", "unable to open", "not a database", "authorization")


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove every secret value from ``text``."""
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip() or type(orig).__name__
    return text.splitlines()[0][:300]


def _pg_sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def _mysql_errno(exc: BaseException) -> int | None:
    args = getattr(getattr(exc, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _pg_kind(exc: BaseException, _message: str) -> str | None:
    state = _pg_sqlstate(exc)
    if state is None:
        return None
    for prefixes, kind in ((PG_MISSING_TABLE, "missing_table"), (PG_DISABLING, "disable"), (PG_RETRYABLE, "retry")):
        if state.startswith(prefixes):
            return kind
    return "reject" if state.startswith(("22", "23")) else "disable"


def _mysql_kind(exc: BaseException, _message: str) -> str | None:
    errno = _mysql_errno(exc)
    if errno is None:
        return None
    for numbers, kind in ((MYSQL_MISSING_TABLE, "missing_table"), (MYSQL_DISABLING, "disable")):
        if errno in numbers:
            return kind
    if errno in MYSQL_RETRYABLE or 2000 <= errno < 3000:  # 2xxx: the client lost or never had the server
        return "retry"
    return "reject" if type(exc).__name__ in ("DataError", "IntegrityError") else "disable"


def _sqlite_kind(_exc: BaseException, message: str) -> str | None:
    if "no such table" in message:
        return "missing_table"
    for words, kind in ((SQLITE_DISABLING_WORDS, "disable"), (SQLITE_RETRYABLE_WORDS, "retry")):
        if any(word in message for word in words):
            return kind
    return None


_BY_DIALECT = {"postgresql": _pg_kind, "mysql": _mysql_kind, "mariadb": _mysql_kind, "sqlite": _sqlite_kind}


def kind_of(exc: BaseException, dialect: str) -> str:
    """Classify ``exc``: ``retry``, ``disable``, ``missing_table`` or ``reject`` (the data)."""
    import sqlalchemy as sa

    if isinstance(exc, NewerSchemaError | MissingSchemaError | ImportError | sa.exc.ArgumentError):
        return "disable"  # NoSuchModuleError (an unknown driver) is an ArgumentError too
    if isinstance(exc, sa.exc.TimeoutError | sa.exc.DisconnectionError) or (
        isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
    ):
        return "retry"
    message = _first_line(exc).lower()
    by_dialect = _BY_DIALECT.get(dialect)
    kind = by_dialect(exc, message) if by_dialect else None
    if kind is None and any(word in message for word in AUTH_WORDS):
        kind = "disable"
    if kind is None and isinstance(exc, sa.exc.DataError | sa.exc.IntegrityError):
        kind = "reject"
    if kind is None and isinstance(exc, sa.exc.ProgrammingError):
        kind = "disable"
    return kind or "retry"  # OperationalError without a code (connection refused, timeout) and anything unknown


def classify(exc: BaseException, *, dialect: str, doing: str, where: str, secrets: Sequence[str]) -> Exception:
    """The delivery error to raise for ``exc`` met while ``doing`` against the database at ``where``."""
    detail = scrub(_first_line(exc), secrets)
    kind = kind_of(exc, dialect)
    if isinstance(exc, NewerSchemaError | MissingSchemaError):
        return flagpipe.DestinationDisabledError(scrub(str(exc), secrets))
    if isinstance(exc, ImportError):
        return flagpipe.DestinationDisabledError(
            f"the sql callback cannot load the database driver for {where} ({detail}): pip install 'flagpipe[sql]'"
        )
    if kind == "retry":
        return flagpipe.RetryableError(f"{where} is unavailable while {doing}: {detail}")
    if kind == "missing_table":
        return flagpipe.RetryableError(f"the flag tables are missing in {where} while {doing}: {detail}")
    if kind == "reject":
        return flagpipe.PermanentError(f"{where} refused the flags while {doing}: {detail}")
    return flagpipe.DestinationDisabledError(
        f"{where} refused while {doing}: {detail}; fix the credentials, grants or database, then flagpipe retry "
        "(the flags stay in the journal)"
    )


__all__ = ["classify", "kind_of", "scrub"]
