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
    if (
        event_id is None
        and created_at is None
        and not metadata
        and (mode == "manual" or mode == "auto")  # noqa: PLR1714 - two comparisons beat building a tuple
        and (option is None or type(option) is str)
        and (comment is None or type(comment) is str)
        and (username is None or type(username) is str)
        and (session_id is None or type(session_id) is str)
        and (app is None or type(app) is str)
        and _plain_fields(fields)
    ):
        values: dict[str, Any] = {
            "schema_version": 1,
            "id": new_event_id(),
            "created_at": utc_now(),
            "mode": mode,
            "option": option,
            "comment": comment,
            "username": username,
            "session_id": session_id,
            "app": app,
            "fields": fields,
            "metadata": {},
        }
        return _trusted(FlagEvent, values, _EVENT_SET)
    given: dict[str, Any] = {"id": event_id, "created_at": created_at}
    return FlagEvent(
        mode=mode,
        fields=fields,
        metadata=metadata,
        option=option,
        comment=comment,
        username=username,
        session_id=session_id,
        app=app,
        **{key: value for key, value in given.items() if value is not None},
    )


def _plain_fields(fields: tuple[FieldValue, ...]) -> bool:
    if type(fields) is not tuple:
        return False
    names = set()
    for item in fields:
        if not isinstance(item, FieldValue):
            return False
        names.add(item.name)
    return len(names) == len(fields)


def trusted_field(name: str, role: str, kind: str, value: Any) -> FieldValue:
    """A non-file field whose parts the caller has checked, as ``FieldValue.model_construct`` builds it, faster.

    :func:`_trusted` written out: this runs for every field of every flag.
    """
    model = _new(FieldValue)
    _set(model, "__dict__", {"name": name, "role": role, "kind": kind, "value": value, "file": None})
    _set(model, "__pydantic_fields_set__", set(_FIELD_SET))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_FIELD_SET = frozenset({"name", "role", "kind", "value", "file"})
_EVENT_SET = frozenset({"mode", "fields", "metadata", *_TEXT_DETAILS})

ModelT = TypeVar("ModelT", bound=BaseModel)


_new = object.__new__
_set = object.__setattr__


def _trusted(cls: type[ModelT], values: dict[str, Any], fields_set: frozenset[str]) -> ModelT:
    """An instance of ``cls`` holding ``values`` as they are (what ``model_construct`` does, less its overhead)."""
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(fields_set))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


__all__ = ["build_event", "trusted_field"]
