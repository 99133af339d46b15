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

    options: list[str | None] | str | None = Field(
        default=None, description="The event's option is one of these (a list, or one value)."
    )
    mode: list[str] | str | None = Field(default=None, description="manual or auto (a list, or one value).")
    usernames: list[str | None] | str | None = Field(
        default=None, description="Who flagged it is one of these (a list, or one value)."
    )
    fields: dict[str, JsonValue] | None = Field(
        default=None, description="Field name to a value (or a list of values) it must equal."
    )
    metadata: dict[str, JsonValue] | None = Field(
        default=None, description="Metadata key to a value (or list of values) it must equal."
    )
    has_metadata: list[str] | str | None = Field(
        default=None, description="Metadata keys that must be present (a list, or one key)."
    )

    _lists = field_validator("options", "mode", "usernames", "has_metadata", mode="before")(
        lambda cls, value: _as_list(value)
    )

    def matches(self, event: FlagEvent) -> bool:
        """True when ``event`` meets every condition given."""
        checks = (
            self.options is None or event.option in self.options,
            self.mode is None or event.mode in self.mode,
            self.usernames is None or event.username in self.usernames,
            self.has_metadata is None or all(k in event.metadata for k in self.has_metadata),
            self.metadata is None or _all_equal(event.metadata, self.metadata),
            self.fields is None
            or _all_equal({f.name: (f.file.path if f.file else f.value) for f in event.fields}, self.fields),
        )
        return all(checks)


def _all_equal(actual: dict[str, JsonValue], wanted: dict[str, JsonValue]) -> bool:
    return all(key in actual and _equal(actual[key], value) for key, value in wanted.items())


def _equal(actual: object, wanted: object) -> bool:
    if isinstance(wanted, list) and not isinstance(actual, list):
        return actual in wanted
    return actual == wanted
