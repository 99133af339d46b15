"""What the journal can store and read back, and events that callbacks cannot change.

The journal stores events as JSON and reads them back with pydantic, whose parser refuses numbers
of more than 4,300 digits and nesting deeper than about 200 levels. :func:`check_event` refuses such
values before an event is stored, so a flag is never accepted that no lane could deliver.

Events handed to callbacks are frozen all the way down (:func:`freeze_event`): their metadata and
JSON values are :class:`FrozenDict` and :class:`FrozenList`, which behave as ``dict`` and ``list``
for reading and serialising (``json.dumps`` and pydantic take them as they are) but refuse changes,
so a callback cannot change what the next callback receives.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flagpipe.core.event import FlagEvent

#: The deepest nesting of lists and objects a stored value may have.
MAX_DEPTH = 64

#: The most digits an integer may have (Python's and the JSON reader's limit).
MAX_INT_DIGITS = 4300

_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))
_TOO_LARGE = 10**MAX_INT_DIGITS


def check_value(value: object, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` when ``value`` could not be stored and read back."""
    _check(value, where, 0)


def _check(value: object, where: str, depth: int) -> None:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if value.bit_length() >= _MAX_INT_BITS and abs(value) >= _TOO_LARGE:
            raise ValueError(f"{where}: an integer of more than {MAX_INT_DIGITS} digits cannot be stored")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} cannot be stored (not a finite number)")
        return
    if isinstance(value, (list, tuple, dict)):
        if depth >= MAX_DEPTH:
            raise ValueError(f"{where}: nested more than {MAX_DEPTH} levels deep; flatten it or store it as text")
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            _check(item, where, depth + 1)


def checked_metadata(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a flag's metadata; ``ValueError`` when it could not be stored and read back."""
    metadata = dict(given or {})
    if metadata:
        _check(metadata, "metadata", 0)
    return metadata


def check_event(event: FlagEvent) -> None:
    """Raise ``ValueError`` when a field value or the metadata of ``event`` could not be read back."""
    for item in event.fields:
        value = item.value
        if value is not None and not isinstance(value, str):
            _check(value, f"field {item.name!r}", 0)
    if event.metadata:
        _check(event.metadata, "metadata", 0)


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise TypeError("flag events are immutable; copy the value (dict(...), list(...)) to change it")


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses changes; copies (``dict(d)``, ``copy.deepcopy``) are plain dicts."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __copy__(self) -> dict[str, Any]:
        return dict(self)


class FrozenList(list[Any]):
    """A ``list`` that refuses changes; copies (``list(x)``, ``copy.deepcopy``) are plain lists."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        import copy

        return [copy.deepcopy(value, memo) for value in self]

    def __copy__(self) -> list[Any]:
        return list(self)


def freeze(value: Any) -> Any:
    """``value`` with every list and dict in it replaced by a frozen copy."""
    if isinstance(value, dict):
        return FrozenDict((key, freeze(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return FrozenList(freeze(item) for item in value)
    return value


def freeze_event(event: FlagEvent) -> FlagEvent:
    """Freeze ``event``'s metadata and JSON values in place, and return it.

    Only for events no one else has seen yet (built by ``flag()``, or just read from the journal):
    their containers become read-only copies, so nothing done with them later can change them.
    """
    for item in event.fields:
        value = item.value
        if isinstance(value, (list, dict)) and not isinstance(value, (FrozenDict, FrozenList)):
            item.__dict__["value"] = freeze(value)
    metadata = event.metadata
    if metadata and not isinstance(metadata, FrozenDict):
        event.__dict__["metadata"] = freeze(metadata)
    return event


__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "FrozenDict",
    "FrozenList",
    "check_event",
    "check_value",
    "checked_metadata",
    "freeze",
    "freeze_event",
]
