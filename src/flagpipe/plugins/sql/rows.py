"""Flags to rows and back, and the idempotent inserts of each database.

A row is inserted once by its id: ``ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite, and on
MariaDB/MySQL ``ON DUPLICATE KEY UPDATE id = id`` (a no-op that, unlike ``INSERT IGNORE``, still
fails on a value the column cannot hold).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from flagpipe import FieldValue, FlagEvent

if TYPE_CHECKING:
    from flagpipe.plugins.sql.files import FilePlacer

#: Keys the ``sql`` callback adds to a field's ``file`` object (not part of :class:`flagpipe.FileRef`).
FILE_EXTRAS = ("storage", "location")


def to_db_time(moment: datetime, dialect: str) -> datetime:
    """A UTC time as the database stores it: aware on PostgreSQL, naive UTC elsewhere."""
    moment = moment.astimezone(timezone.utc)
    return moment if dialect == "postgresql" else moment.replace(tzinfo=None)


def from_db_time(moment: datetime) -> datetime:
    """A time read back from any database, as an aware UTC datetime."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def event_row(event: FlagEvent, placer: FilePlacer, dialect: str) -> dict[str, Any]:
    """The ``<prefix>flags`` row of one event (its files placed by ``placer``)."""
    return {
        "id": event.id,
        "created_at": to_db_time(event.created_at, dialect),
        "app": event.app,
        "mode": event.mode,
        "option": event.option,
        "username": event.username,
        "comment": event.comment,
        "session_id": event.session_id,
        "schema_version": event.schema_version,
        "fields": [placer.field_json(f) for f in event.fields],
        "metadata": dict(event.metadata),
        "stored_at": to_db_time(datetime.now(timezone.utc), dialect),
    }


def event_from_row(row: Any) -> FlagEvent:
    """Rebuild the :class:`flagpipe.FlagEvent` a ``<prefix>flags`` row was written from."""
    values = row._mapping
    fields = []
    for item in values["fields"]:
        data = dict(item)
        if data.get("file"):
            data["file"] = {k: v for k, v in data["file"].items() if k not in FILE_EXTRAS}
        fields.append(FieldValue.model_validate(data))
    return FlagEvent(
        schema_version=values["schema_version"],
        id=values["id"],
        created_at=from_db_time(values["created_at"]),
        mode=values["mode"],
        option=values["option"],
        comment=values["comment"],
        username=values["username"],
        session_id=values["session_id"],
        app=values["app"],
        fields=tuple(fields),
        metadata=values["metadata"],
    )


def insert_once(table: sa.Table, key: str, dialect: str) -> sa.Executable:
    """An INSERT of ``table`` that skips rows whose ``key`` is already stored (run with many rows)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    if dialect in ("mysql", "mariadb"):
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update({key: statement.inserted[key]})
    raise ValueError(f"the sql callback supports PostgreSQL, MariaDB/MySQL and SQLite, not {dialect!r}")


__all__ = ["event_from_row", "event_row", "from_db_time", "insert_once", "to_db_time"]
