"""Lane progress not saved yet: what deferred :meth:`~flagpipe.core.journal.Journal.advance` calls add up to."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Pending:
    owner: str
    upto: int
    delivered: int
    skipped: int


class UnsavedProgress:
    """Per lane: the owner, the highest ``upto`` and the counts delivered and skipped since the last save."""

    def __init__(self) -> None:
        self._lanes: dict[str, _Pending] = {}
        self._events = 0
        self._since = 0.0

    def __bool__(self) -> bool:
        return bool(self._lanes)

    def add(self, name: str, owner: str, upto: int, *, delivered: int, skipped: int) -> int:
        """Add one lane's progress; return how many events the unsaved progress covers now.

        A lane whose owner changed starts afresh: only the newest owner's progress can be saved.
        """
        entry = self._lanes.get(name)
        if entry is None or entry.owner != owner:
            if not self._lanes:
                self._since = time.monotonic()
            self._lanes[name] = _Pending(owner, upto, delivered, skipped)
        else:
            entry.upto = max(upto, entry.upto)
            entry.delivered += delivered
            entry.skipped += skipped
        self._events += delivered + skipped
        return self._events

    def pending(self, name: str) -> tuple[int, int, int] | None:
        """The unsaved ``(upto, delivered, skipped)`` of lane ``name``, or None."""
        entry = self._lanes.get(name)
        return None if entry is None else (entry.upto, entry.delivered, entry.skipped)

    def restore(self, rows: list[tuple[int, int, int, str, str]]) -> None:
        """Put back rows :meth:`take` returned that could not be saved (they are saved next time)."""
        for upto, delivered, skipped, name, owner in rows:
            self.add(name, owner, upto, delivered=delivered, skipped=skipped)

    def age(self) -> float:
        """Seconds since the oldest unsaved progress was added (0 when there is none)."""
        return time.monotonic() - self._since if self._lanes else 0.0

    def take(self) -> list[tuple[int, int, int, str, str]]:
        """The rows for the journal's ``UPDATE`` (upto, delivered, skipped, name, owner), forgetting them."""
        rows = [(e.upto, e.delivered, e.skipped, name, e.owner) for name, e in self._lanes.items()]
        self._lanes.clear()
        self._events = 0
        return rows


__all__ = ["UnsavedProgress"]
