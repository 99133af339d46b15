"""The tables of the ``sql`` callback, as SQLAlchemy Core metadata, and their DDL.

Three tables, their names prefixed by ``table_prefix``:

- ``<prefix>flags``: one row per flag. Typed columns for the event's own parts (``id`` is the primary
  key, ``created_at`` a timezone-aware timestamp), the fields and the metadata as JSON (``JSONB`` with
  a GIN index on PostgreSQL).
- ``<prefix>blobs``: file contents for ``files: inline``, one row per sha256.
- ``<prefix>version``: one row, the version of this layout (see :mod:`flagpipe.plugins.sql.migrations`).

Only imported where an engine is built: it imports SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Length of the short text columns (app, option, username, session_id): indexable on MariaDB with utf8mb4.
SHORT = 255

#: JSON on every database, JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: Bytes of a file: LONGBLOB on MariaDB/MySQL (BLOB holds only 64 KiB there).
BlobType = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
#: Microsecond timestamps on MariaDB/MySQL too (their DATETIME drops fractions by default).
TimeType = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


@dataclass(frozen=True)
class Tables:
    """The callback's tables for one prefix and schema."""

    metadata: sa.MetaData
    flags: sa.Table
    blobs: sa.Table
    version: sa.Table

    def __iter__(self) -> Iterator[sa.Table]:
        return iter((self.flags, self.blobs, self.version))


def build_tables(prefix: str = "flagpipe_", schema: str | None = None) -> Tables:
    """Describe the tables named with ``prefix``, in ``schema`` (None: the connection's default)."""
    metadata = sa.MetaData(schema=schema)
    flags = sa.Table(
        f"{prefix}flags",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True, comment="The flag's unique, time-ordered id (UUIDv7)."),
        sa.Column("created_at", TimeType, nullable=False, comment="When it was flagged (UTC)."),
        sa.Column("app", sa.String(SHORT), comment="The app's name from the config."),
        sa.Column("mode", sa.String(16), nullable=False, comment="manual or auto."),
        sa.Column("option", sa.String(SHORT), comment="The reason picked."),
        sa.Column("username", sa.String(SHORT), comment="Who flagged it."),
        sa.Column("comment", sa.Text(), comment="Free text from the person flagging."),
        sa.Column("session_id", sa.String(SHORT), comment="The app session it came from."),
        sa.Column("schema_version", sa.Integer(), nullable=False, comment="The event schema's version."),
        sa.Column("fields", JSONType, nullable=False, comment="The sample's fields: a list of objects."),
        sa.Column("metadata", JSONType, nullable=False, comment="Free JSON metadata."),
        sa.Column("stored_at", TimeType, nullable=False, comment="When it was stored (UTC)."),
    )
    sa.Index(f"ix_{prefix}flags_created_at", flags.c.created_at)
    sa.Index(f"ix_{prefix}flags_option", flags.c.option, flags.c.created_at)
    sa.Index(f"ix_{prefix}flags_app", flags.c.app, flags.c.created_at)
    sa.Index(f"ix_{prefix}flags_username", flags.c.username, flags.c.created_at)
    for column in (flags.c.fields, flags.c.metadata):  # JSONB lookups (@>, ?) on PostgreSQL only
        sa.Index(f"ix_{prefix}flags_{column.name}", column, postgresql_using="gin").ddl_if(dialect="postgresql")
    blobs = sa.Table(
        f"{prefix}blobs",
        metadata,
        sa.Column("sha256", sa.String(64), primary_key=True, comment="Hex SHA-256 of the content."),
        sa.Column("size", sa.BigInteger(), nullable=False, comment="Size in bytes."),
        sa.Column("content_type", sa.String(SHORT), comment="The media type, when known."),
        sa.Column("content", BlobType, nullable=False, comment="The bytes."),
    )
    version = sa.Table(
        f"{prefix}version",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True, comment="Always 'schema'."),
        sa.Column("version", sa.Integer(), nullable=False, comment="The version of this table layout."),
        sa.Column("written_by", sa.String(64), nullable=False, comment="The flagpipe version that wrote it."),
    )
    return Tables(metadata, flags, blobs, version)
