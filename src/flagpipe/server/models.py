"""The API's request and answer bodies, as pydantic models (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "BatchIn",
    "BatchItemIn",
    "BatchOut",
    "CallbackState",
    "ConfigOut",
    "FileIn",
    "FlagIn",
    "FlagOut",
    "FlagStatus",
    "ItemOut",
    "OptionOut",
]

_SHORT = 1000  # the longest option, username or session id
_TEXT = 100_000  # the longest comment


class FileIn(BaseModel):
    """A file sent inside JSON: its bytes in base64, with its name and media type."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="The file's bytes, base64-encoded (standard alphabet).")
    name: str = Field(min_length=1, max_length=255, description="The file's name, such as photo.png.")
    content_type: str | None = Field(default=None, max_length=255, description="Its media type, such as image/png.")


class FlagIn(BaseModel):
    """One flag: the sample's values (and files), the reason picked, who, and free metadata."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, JsonValue] = Field(default_factory=dict, description="Field name to its JSON value.")
    files: dict[str, FileIn] = Field(default_factory=dict, description="Field name to a file (base64).")
    option: str | None = Field(default=None, max_length=_SHORT, description="One of the configured options.")
    username: str | None = Field(default=None, max_length=_SHORT, description="Who flagged.")
    comment: str | None = Field(default=None, max_length=_TEXT, description="Free text.")
    metadata: dict[str, JsonValue] | None = Field(default=None, description="Free JSON metadata.")
    session_id: str | None = Field(default=None, max_length=_SHORT, description="Groups one session's flags.")
    app: str | None = Field(default=None, max_length=_SHORT, description="The app flagging (default: the server's).")


class BatchItemIn(FlagIn):
    """A flag in a batch, with its own idempotency key (the forwarding callback sends the event id)."""

    idempotency_key: str | None = Field(default=None, max_length=255, description="Replays store nothing twice.")


class BatchIn(BaseModel):
    """Several flags, each accepted or refused on its own."""

    model_config = ConfigDict(extra="forbid")

    flags: list[BatchItemIn] = Field(min_length=1, description="The flags, up to server.max_batch.")


class FlagOut(BaseModel):
    """What became of an accepted flag: its id, and the receipt of ``flag()``."""

    id: str = Field(description="The event id.")
    stored: bool = Field(description="True: the flag is in the journal.")
    replayed: bool = Field(default=False, description="True: an earlier request with the same key stored it.")
    delivered: list[str] = Field(default_factory=list, description="Callbacks that took it already.")
    pending: list[str] = Field(default_factory=list, description="Callbacks that will take it later.")
    failed: dict[str, str] = Field(default_factory=dict, description="Callbacks whose first try failed.")
    skipped: list[str] = Field(
        default_factory=list, description="Callbacks whose when rule excludes it, or whose own redact: drops it."
    )
    reason: str | None = Field(default=None, description="Why nothing was stored (mode never, a filter).")


class ItemOut(BaseModel):
    """One batch item's answer: its status as if it had been sent alone, and the flag or the error."""

    status: int = Field(description="202 accepted, or the error status (422, 413, 403, ...).")
    flag: FlagOut | None = Field(default=None, description="The accepted flag.")
    error: str | None = Field(default=None, description="The error code, when refused.")
    message: str | None = Field(default=None, description="Why it was refused.")
    problems: list[dict[str, JsonValue]] = Field(default_factory=list, description="Each problem, with its loc.")


class BatchOut(BaseModel):
    """The answer to a batch: one item per flag sent, in order."""

    accepted: int = Field(description="How many flags were accepted.")
    refused: int = Field(description="How many were refused.")
    items: list[ItemOut] = Field(description="One answer per flag, in order.")


class CallbackState(BaseModel):
    """Where one callback stands with a flag."""

    callback: str = Field(description="The callback's name in the chain.")
    state: Literal["delivered", "pending", "dead"] = Field(
        description="delivered (or skipped by its when rule), pending, or dead (a dead letter)."
    )
    error: str | None = Field(default=None, description="The last error, for dead letters.")


class FlagStatus(BaseModel):
    """A stored flag's delivery state per callback."""

    id: str = Field(description="The event id.")
    created_at: str = Field(description="When it was flagged (ISO 8601, UTC).")
    callbacks: list[CallbackState] = Field(description="One entry per callback in the chain.")


class OptionOut(BaseModel):
    """An option: the label on the button and the value stored."""

    label: str
    value: str


class ConfigOut(BaseModel):
    """What a front end needs to draw its Flag buttons."""

    mode: Literal["manual", "auto", "never"] = Field(description="The flagging mode.")
    options: list[OptionOut] = Field(description="The reasons, in order.")
    notice: str | None = Field(default=None, description="The privacy notice (Markdown) to show beside buttons.")
    app: str | None = Field(default=None, description="The app's name.")
    max_batch: int = Field(description="The most flags one batch may hold.")
