"""Build the SQLAlchemy engine of a ``sql`` callback from its settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from flagpipe.plugins.sql.settings import SQLSettings

#: Dialect names the callback supports.
SUPPORTED = ("postgresql", "mysql", "mariadb", "sqlite")


def database_url(settings: SQLSettings, directory: Path | None) -> sa.URL:
    """The settings' URL with the password setting applied and a relative SQLite file under ``directory``."""
    url = sa.make_url(settings.url.get_secret_value())
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute() and directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            url = url.set(database=str(directory / path))
    return url


def create_engine(settings: SQLSettings, directory: Path | None) -> sa.Engine:
    """A pooled engine for the settings: pre-ping, recycle, timeouts, the application name."""
    url = database_url(settings, directory)
    backend = url.get_backend_name()
    if backend not in SUPPORTED:
        raise sa.exc.ArgumentError(f"the sql callback supports PostgreSQL, MariaDB/MySQL and SQLite, not {backend!r}")
    if backend == "sqlite" and settings.db_schema is not None:
        raise sa.exc.ArgumentError("schema: is for PostgreSQL and MariaDB/MySQL; use table_prefix with SQLite")
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": settings.pool_pre_ping}
    if backend == "postgresql":
        connect_args = {"connect_timeout": max(1, round(settings.connect_timeout))}
        connect_args["application_name"] = settings.application_name
    elif backend in ("mysql", "mariadb"):
        connect_args = {"connect_timeout": max(1, round(settings.connect_timeout)), "charset": "utf8mb4"}
    else:
        connect_args = {"timeout": settings.connect_timeout}
    if backend != "sqlite" or url.database not in (None, "", ":memory:"):
        options.update(
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_recycle=settings.pool_recycle,
            pool_timeout=settings.connect_timeout,
        )
    engine = sa.create_engine(url, connect_args=connect_args, **options)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets processes on one host read while one writes (synchronous stays FULL: commits are durable)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


__all__ = ["SUPPORTED", "create_engine", "database_url"]
