"""The receipt ``flag()`` and ``record()`` return: whether the flag was kept, and where it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


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
    :ivar skipped: callbacks whose ``when`` rule excludes it.
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


__all__ = ["FlagReceipt"]
