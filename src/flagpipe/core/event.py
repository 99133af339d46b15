"""The flag event schema: what one flag is, as frozen, versioned pydantic models."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

import uuid_utils
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

#: The version of the event schema written into every event; bumped on any incompatible change.
SCHEMA_VERSION = 1

#: Field kinds that carry a file instead of a JSON value.
FILE_KINDS = frozenset({"image", "audio", "video", "file"})

#: Field kinds that flagpipe itself understands; plugins may use others (``[a-z][a-z0-9_]*``).
BUILTIN_KINDS = ("text", "number", "bool", "json", "image", "audio", "video", "file", "chat")

Role = Literal["input", "output"]
FlagMode = Literal["manual", "auto"]


class _Frozen(BaseModel):
    """Base for event models: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FileRef(_Frozen):
    """A file stored in the flagging directory and referenced by an event."""

    path: str = Field(description="Path relative to the flagging directory, with '/' separators.")
    original_name: str | None = Field(default=None, description="The file's name where it came from.")
    media_type: str | None = Field(default=None, description="The media (MIME) type, when known.")
    size: int = Field(ge=0, description="Size in bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 digest of the content.")

    @field_validator("path")
    @classmethod
    def _relative_posix(cls, value: str) -> str:
        parts = value.split("/")
        if not value or value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"file path must be relative, '/'-separated and stay inside the dir: {value!r}")
        return value


class FieldValue(_Frozen):
    """One field of a flag: a component's value (or file), with its name, role and kind."""

    name: str = Field(min_length=1, description="The field's label (a column name in tabular sinks).")
    role: Role = Field(default="input", description="Whether the value went into the model or came out.")
    kind: str = Field(default="text", pattern=r"^[a-z][a-z0-9_]*$", description="text, number, bool, json, image, ...")
    value: JsonValue = Field(default=None, description="The JSON value; None for file kinds.")
    file: FileRef | None = Field(default=None, description="The stored file, for file kinds.")

    @property
    def is_file(self) -> bool:
        """True when this field refers to a stored file."""
        return self.file is not None


def new_event_id() -> str:
    """Return a new unique, time-ordered event id (a UUIDv7 string)."""
    return str(uuid_utils.uuid7())


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


class FlagEvent(_Frozen):
    """One flag: the sample's fields, the reason, who and when, and free metadata.

    Events are immutable and round-trip exactly through JSON
    (``FlagEvent.model_validate_json(event.model_dump_json()) == event``).
    """

    schema_version: Literal[1] = 1
    id: str = Field(default_factory=new_event_id, min_length=1, description="Unique, time-ordered id.")
    created_at: AwareDatetime = Field(default_factory=utc_now, description="When it was flagged (UTC).")
    mode: FlagMode = Field(default="manual", description="manual: a person flagged it; auto: recorded.")
    option: str | None = Field(default=None, description="The reason picked (an option's stored value).")
    comment: str | None = Field(default=None, description="Free text from the person flagging.")
    username: str | None = Field(default=None, description="Who flagged it, when known.")
    session_id: str | None = Field(default=None, description="The app session it came from, when known.")
    app: str | None = Field(default=None, description="The app's name, from the config.")
    fields: tuple[FieldValue, ...] = Field(default=(), description="The sample's fields, in order.")
    metadata: dict[str, JsonValue] = Field(default_factory=dict, description="Free JSON metadata.")

    @field_validator("created_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(timezone.utc)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, value: tuple[FieldValue, ...]) -> tuple[FieldValue, ...]:
        names = [f.name for f in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"field names must be unique; repeated: {', '.join(duplicates)}")
        return value

    def field(self, name: str) -> FieldValue:
        """Return the field called ``name``; raise ``KeyError`` naming the fields there are."""
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"no field {name!r}; fields: {', '.join(f.name for f in self.fields)}")

    def field_names(self) -> tuple[str, ...]:
        """Return the names of the event's fields, in order."""
        return tuple([f.name for f in self.fields])  # a list first: faster than a generator
