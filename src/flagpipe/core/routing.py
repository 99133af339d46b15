"""Routing: a callback's ``when:`` rule decides which events are offered to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

if TYPE_CHECKING:
    from flagpipe.core.event import FlagEvent


def _as_list(value: object) -> object:
    return [value] if value is not None and not isinstance(value, list) else value


class When(BaseModel):
    """Conditions an event must meet to go to a callback; all given conditions must hold.

    Within one condition a list means "any of". Example: ``{options: [wrong sign], mode: manual}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    options: list[str | None] | None = Field(default=None, description="The event's option is one of these.")
    mode: list[str] | None = Field(default=None, description="manual or auto.")
    usernames: list[str | None] | None = Field(default=None, description="Who flagged it is one of these.")
    fields: dict[str, JsonValue] | None = Field(
        default=None, description="Field name to a value (or a list of values) it must equal."
    )
    metadata: dict[str, JsonValue] | None = Field(
        default=None, description="Metadata key to a value (or list of values) it must equal."
    )
    has_metadata: list[str] | None = Field(default=None, description="Metadata keys that must be present.")

    _lists = field_validator("options", "mode", "usernames", "has_metadata", mode="before")(
        lambda cls, value: _as_list(value)  # noqa: ARG005 - pydantic passes the class
    )

    def matches(self, event: FlagEvent) -> bool:
        """True when ``event`` meets every condition given."""
        if self.options is not None and event.option not in self.options:
            return False
        if self.mode is not None and event.mode not in self.mode:
            return False
        if self.usernames is not None and event.username not in self.usernames:
            return False
        if self.has_metadata is not None and any(k not in event.metadata for k in self.has_metadata):
            return False
        if self.metadata is not None:
            for key, wanted in self.metadata.items():
                if key not in event.metadata or not _equal(event.metadata[key], wanted):
                    return False
        if self.fields is not None:
            values = {f.name: (f.file.path if f.file else f.value) for f in event.fields}
            for name, wanted in self.fields.items():
                if name not in values or not _equal(values[name], wanted):
                    return False
        return True


def _equal(actual: object, wanted: object) -> bool:
    if isinstance(wanted, list) and not isinstance(actual, list):
        return actual in wanted
    return actual == wanted
