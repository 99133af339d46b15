"""Building a flag's event from values ``flag()`` has already checked, without a second pydantic pass.

``flag()`` converts each field value itself (:mod:`flagpipe.core.values`), resolves the option and
checks the metadata, so validating the whole :class:`~flagpipe.core.event.FlagEvent` again would only
cost time on every flag. :func:`build_event` constructs it directly when every part is of a type the
model would accept as it is, and falls back to full validation (and its error messages) otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from flagpipe.core.event import FieldValue, FlagEvent, new_event_id, utc_now

if TYPE_CHECKING:
    from datetime import datetime

    from flagpipe.core.event import FlagMode

#: The optional text details of an event.
_TEXT_DETAILS = ("option", "comment", "username", "session_id", "app")


def build_event(
    *,
    mode: FlagMode,
    fields: tuple[FieldValue, ...],
    metadata: dict[str, Any],
    option: str | None = None,
    comment: str | None = None,
    username: str | None = None,
    session_id: str | None = None,
    app: str | None = None,
    event_id: str | None = None,
    created_at: datetime | None = None,
) -> FlagEvent:
    """A new event; equal to ``FlagEvent(...)`` of the same arguments, which it uses for anything unusual.

    The fast path takes new events only (no given id or time), text details that are ``str`` or None,
    ``FieldValue`` fields with unique names, and no metadata.
    """
    details = {"option": option, "comment": comment, "username": username, "session_id": session_id, "app": app}
    if (
        event_id is None
        and created_at is None
        and not metadata
        and mode in ("manual", "auto")
        and all(value is None or type(value) is str for value in details.values())
        and _plain_fields(fields)
    ):
        return _construct(mode, fields, details)
    given: dict[str, Any] = {"id": event_id, "created_at": created_at}
    return FlagEvent(
        mode=mode,
        fields=fields,
        metadata=metadata,
        **details,
        **{key: value for key, value in given.items() if value is not None},
    )


def _plain_fields(fields: tuple[FieldValue, ...]) -> bool:
    if type(fields) is not tuple or not all(isinstance(f, FieldValue) for f in fields):
        return False
    return len({f.name for f in fields}) == len(fields)


def trusted_field(name: str, role: str, kind: str, value: Any) -> FieldValue:
    """A non-file field whose parts the caller has checked, as ``FieldValue.model_construct`` builds it, faster."""
    return _trusted(FieldValue, {"name": name, "role": role, "kind": kind, "value": value, "file": None}, _FIELD_SET)


_FIELD_SET = frozenset({"name", "role", "kind", "value", "file"})
_EVENT_SET = frozenset({"mode", "fields", "metadata", *_TEXT_DETAILS})

ModelT = TypeVar("ModelT", bound=BaseModel)


def _trusted(cls: type[ModelT], values: dict[str, Any], fields_set: frozenset[str]) -> ModelT:
    """An instance of ``cls`` holding ``values`` as they are (what ``model_construct`` does, less its overhead)."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields_set))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _construct(mode: str, fields: tuple[FieldValue, ...], details: dict[str, str | None]) -> FlagEvent:
    values: dict[str, Any] = {
        "schema_version": 1,
        "id": new_event_id(),
        "created_at": utc_now(),
        "mode": mode,
        **details,
        "fields": fields,
        "metadata": {},
    }
    return _trusted(FlagEvent, values, _EVENT_SET)


__all__ = ["build_event", "trusted_field"]
