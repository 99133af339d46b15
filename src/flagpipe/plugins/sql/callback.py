"""The ``sql`` callback: every flag from every replica, once, in one database table.

Each batch is one transaction: the files are placed (uploaded first in URL mode), then the blobs and
the rows are inserted idempotently by their key and the transaction commits. A batch replayed after a
crash, or the same flag offered by two processes, never adds a row twice.

This module imports SQLAlchemy only inside methods, so registering the callback costs nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import flagpipe
from flagpipe.plugins.sql.settings import SQLSettings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import sqlalchemy as sa

    from flagpipe import FlagEvent, FlagSchema
    from flagpipe.plugins.sql.tables import Tables


class SQLCallback(flagpipe.Callback[SQLSettings]):
    """Writes one row per flag to ``<prefix>flags`` in PostgreSQL, MariaDB/MySQL or SQLite."""

    type_name = "sql"
    Settings = SQLSettings

    def __init__(self, settings: SQLSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = settings.batch_size
        self._directory: Path | None = None
        self._engine: sa.Engine | None = None
        self._tables: Tables | None = None
        self._ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # the URL is a secret as a whole (it may carry credentials); messages show it with the password hidden
        return f"<SQLCallback dialect={self.dialect!r} table_prefix={self.settings.table_prefix!r}>"

    # -- set-up -------------------------------------------------------------------------------

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Remember the flagging dir; the database is reached on the first delivery or health check."""
        self._directory = directory

    @property
    def dialect(self) -> str:
        """The database's dialect name (``postgresql``, ``mysql``, ``sqlite``...), without connecting."""
        if self._engine is not None:
            return self._engine.dialect.name
        url = self.settings.url.get_secret_value()
        return url.split(":", 1)[0].split("+", 1)[0]

    def _errors(self, exc: BaseException, doing: str) -> Exception:
        from flagpipe.plugins.sql.errors import classify, kind_of

        if kind_of(exc, self.dialect) == "missing_table":
            self._ready = False  # look again (and create, if allowed) on the next try
        return classify(exc, dialect=self.dialect, doing=doing, where=self.settings.safe_url, secrets=self.secrets)

    @property
    def secrets(self) -> list[str]:
        """Secret values to keep out of messages."""
        return self.settings.secrets()

    def engine(self) -> sa.Engine:
        """The engine (built on first use)."""
        if self._engine is None:
            from flagpipe.plugins.sql.engine import create_engine
            from flagpipe.plugins.sql.tables import build_tables

            self._engine = create_engine(self.settings, self._directory)
            self._tables = build_tables(self.settings.table_prefix, self.settings.db_schema)
        return self._engine

    def tables(self) -> Tables:
        """The table descriptions."""
        self.engine()
        assert self._tables is not None
        return self._tables

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        from flagpipe.plugins.sql.migrations import ensure_schema

        ensure_schema(self.engine(), self.tables(), create=self.settings.create_tables)
        self._ready = True

    # -- delivering ---------------------------------------------------------------------------

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Insert the batch in one transaction; rows and blobs already stored are skipped."""
        if self._directory is None:
            raise flagpipe.PermanentError("sql callback used before setup()")
        if not events:
            return
        with self._lock:
            try:
                self._deliver(events)
            except flagpipe.DeliveryError:
                raise
            except Exception as exc:
                raise self._errors(exc, f"writing {len(events)} flag(s)") from exc

    def _deliver(self, events: Sequence[FlagEvent]) -> None:
        from flagpipe.plugins.sql.files import FilePlacer
        from flagpipe.plugins.sql.rows import event_row, insert_once

        self._ensure_ready()
        engine, tables = self.engine(), self.tables()
        assert self._directory is not None
        placer = FilePlacer(self.settings.files, self._directory, self.settings.inline_max_bytes)
        rows = [event_row(event, placer, engine.dialect.name) for event in events]
        with engine.begin() as conn:
            if placer.blobs:
                conn.execute(insert_once(tables.blobs, "sha256", engine.dialect.name), list(placer.blobs.values()))
            conn.execute(insert_once(tables.flags, "id", engine.dialect.name), rows)

    # -- health and the end -------------------------------------------------------------------

    def healthcheck(self) -> str | None:
        """Connect, check the tables' version (creating them if allowed), and count the flags."""
        import sqlalchemy as sa

        with self._lock:
            try:
                self._ensure_ready()
                with self.engine().connect() as conn:
                    count = conn.execute(sa.select(sa.func.count()).select_from(self.tables().flags)).scalar_one()
            except flagpipe.DeliveryError:
                raise
            except Exception as exc:
                raise self._errors(exc, "checking the database") from exc
        return f"{self.tables().flags.name} in {self.settings.safe_url} holds {count:,} flag(s)"

    def close(self) -> None:
        """Close the connection pool (each batch is committed as it comes)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            self._ready = False


__all__ = ["SQLCallback"]
