"""What ``flag()`` and ``record()`` take besides the values, and the receipt they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from collections.abc import Mapping


class FlagDetails(TypedDict, total=False):
    """The keyword arguments of ``flag()`` and ``record()`` besides the values, all optional.

    :ivar option: the reason picked; one of the configured options (label or value).
    :ivar username: who flagged.
    :ivar comment: free text from the person who flagged.
    :ivar metadata: free JSON: model version, latency, request id ...
    :ivar session_id: groups the flags of one session.
    """

    option: str | None
    username: str | None
    comment: str | None
    metadata: Mapping[str, Any] | None
    session_id: str | None


def check_details(method: str, details: Mapping[str, Any]) -> None:
    """Refuse a keyword that is not one of :class:`FlagDetails`, as Python does for a misspelled one."""
    unknown = [key for key in details if key not in FlagDetails.__annotations__]
    if unknown:
        allowed = ", ".join(FlagDetails.__annotations__)
        raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}; it takes {allowed}")


@dataclass(frozen=True)
class FlagReceipt:
    """What became of one call to ``flag()`` or ``record()``.

    :ivar id: the event id, when the flag was stored.
    :ivar stored: True when the flag was accepted into the journal.
    :ivar reason: why nothing was stored, when it was not.
    :ivar delivered: names of the callbacks that took it before ``flag()`` returned (inline delivery).
    :ivar pending: callbacks that will get it later (background delivery, or a retry after a failure).
    :ivar failed: callback name to the last error, for deliveries that failed (they are retried or
        dead-lettered as the config says; the flag itself is kept).
    :ivar skipped: callbacks whose ``when`` rule excludes it, or whose own ``redact:`` drops it.
    """

    id: str | None
    stored: bool
    reason: str | None = None
    delivered: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.stored


__all__ = ["FlagDetails", "FlagReceipt", "check_details"]
