"""Settings of the ``sql`` callback, and URLs rendered with their password hidden.

Nothing here imports SQLAlchemy: the settings are validated on every start, the engine is built only
when a ``sql`` callback delivers or a ``flagpipe sql`` command runs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

import flagpipe

#: The URL the docs and the demo use: a SQLite file in the flagging directory.
DEFAULT_URL = "sqlite:///flags.db"
#: ``files:`` values that are not a storage URL.
FILE_MODES = ("reference", "inline")
#: What a table prefix may look like (it becomes part of table and index names).
PREFIX_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,29}$")
#: What a schema name may look like.
SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_PASSWORD_IN_URL = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/@?#]*:)(?P<password>[^@/?#]*)@")

FilesMode = Literal["reference", "inline"]


def hide_password(url: str) -> str:
    """Return ``url`` with the password (if any) replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***@", url, count=1)


def url_password(url: str) -> str | None:
    """The password written in ``url``, or None."""
    match = _PASSWORD_IN_URL.match(url)
    return match.group("password") if match else None


class SQLSettings(flagpipe.CallbackSettings):
    """Settings of the ``sql`` callback."""

    url: SecretStr = Field(
        default=DEFAULT_URL,
        validate_default=True,
        description=(
            "A SQLAlchemy URL: sqlite:///flags.db (relative to the flagging dir), postgresql+psycopg://..., "
            "mysql+pymysql://... Kept secret: shown with the password hidden."
        ),
    )
    password: SecretStr | None = Field(
        default=None, description="The database password, when it is not in the URL (for example ${DB_PASSWORD})."
    )
    table_prefix: str = Field(
        default="flagpipe_",
        description="Prefix of the table names (by default: flagpipe_flags, flagpipe_blobs, flagpipe_version).",
    )
    db_schema: str | None = Field(
        default=None,
        alias="schema",
        description="The PostgreSQL schema (or MariaDB/MySQL database) of the tables; created if missing.",
    )
    create_tables: bool = Field(
        default=True,
        description="Create or upgrade the tables on first use; false when the app's user may not run DDL "
        "(run flagpipe sql init once instead).",
    )
    files: str = Field(
        default="reference",
        description="Where files go: reference (path and sha256 only), inline (bytes in the blobs table), "
        "or an fsspec URL (s3://bucket/flags/, file:///srv/flags/) they are uploaded to by sha256.",
    )
    inline_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="With files: inline, the largest file stored in the database; larger ones are kept as references.",
    )
    batch_size: int = Field(default=1000, ge=1, le=10_000, description="The most flags written in one transaction.")
    pool_size: int = Field(default=5, ge=1, description="Connections kept open in the pool.")
    max_overflow: int = Field(default=5, ge=0, description="Extra connections the pool may open under load.")
    pool_recycle: float = Field(
        default=1800.0, gt=0, description="Seconds after which a pooled connection is replaced."
    )
    pool_pre_ping: bool = Field(
        default=True, description="Test a pooled connection before use (survives server restarts)."
    )
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a new connection.")
    application_name: str = Field(
        default="flagpipe", description="The name the connection shows in pg_stat_activity (PostgreSQL)."
    )

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if "://" not in text:
            raise ValueError("url must be a SQLAlchemy URL such as sqlite:///flags.db or postgresql+psycopg://...")
        return value

    @field_validator("table_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and not PREFIX_PATTERN.match(value):
            raise ValueError(f"table_prefix must be lower-case letters, digits and _ (at most 30), got {value!r}")
        return value

    @field_validator("db_schema")
    @classmethod
    def _schema(cls, value: str | None) -> str | None:
        if value is not None and not SCHEMA_PATTERN.match(value):
            raise ValueError(f"schema must be lower-case letters, digits and _, got {value!r}")
        return value

    @field_validator("files")
    @classmethod
    def _files(cls, value: str) -> str:
        if value in FILE_MODES or re.match(r"^[a-z][a-z0-9+.-]*://.+", value):
            return value
        raise ValueError(f"files must be reference, inline, or a storage URL such as s3://bucket/flags/, got {value!r}")

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for messages."""
        return hide_password(self.url.get_secret_value())

    @property
    def files_url(self) -> str | None:
        """The storage URL files are uploaded to, or None in ``reference`` / ``inline`` mode."""
        return None if self.files in FILE_MODES else self.files

    def secrets(self) -> list[str]:
        """Every secret value these settings hold (to scrub from error messages)."""
        found = [url_password(self.url.get_secret_value()), self.password.get_secret_value() if self.password else None]
        return [s for s in found if s]


__all__ = ["DEFAULT_URL", "SQLSettings", "hide_password", "url_password"]
