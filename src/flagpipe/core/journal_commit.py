"""Group commit: threads appending at once share one transaction instead of queueing for one each.

The first thread to arrive writes (the *leader*); threads arriving while it writes queue their
items, and the next of them to wake writes the whole queue in one transaction. A lone thread writes
at once, so grouping costs nothing without contention. Each thread gets its own item's result or
error back: an item is stored once its call returns.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ItemT = TypeVar("ItemT")


class _Slot(Generic[ItemT]):
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: ItemT) -> None:
        self.item = item
        self.done = False
        self.result = 0
        self.error: BaseException | None = None


class GroupCommit(Generic[ItemT]):
    """Runs ``write(items)`` for groups of items submitted by concurrent threads.

    :param write: stores a group in one transaction and returns one sequence number per item, or
        raises (then the group is written again one item at a time, so one bad item fails alone).
    """

    def __init__(self, write: Callable[[Sequence[ItemT]], list[int]]) -> None:
        self._write = write
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Slot[ItemT]] = []
        self._writing = False
        #: How many groups were written (one transaction each), and how many items they held.
        self.groups = 0
        self.items = 0

    @property
    def queued(self) -> int:
        """How many items wait for the commit under way."""
        return len(self._queue)

    def submit(self, item: ItemT) -> int:
        """Store ``item`` with whatever other threads submit meanwhile; return its sequence number."""
        slot = _Slot(item)
        with self._cond:
            self._queue.append(slot)
            while self._writing and not slot.done:
                self._cond.wait()
            if not slot.done:
                self._writing = True
                group, self._queue = self._queue, []
        if not slot.done:
            try:
                self._write_group(group)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _write_group(self, group: list[_Slot[ItemT]]) -> None:
        try:
            self._store(group)
        except BaseException:
            if len(group) == 1:
                raise
            for slot in group:  # one item at a time: a bad item fails alone
                try:
                    self._store([slot])
                except BaseException as exc:  # noqa: BLE001 - handed to the thread that submitted it
                    slot.error = exc
                    slot.done = True

    def _store(self, group: list[_Slot[ItemT]]) -> None:
        results = self._write([s.item for s in group])
        self.groups += 1
        self.items += len(group)
        for slot, result in zip(group, results, strict=True):
            slot.result = result
            slot.done = True


__all__ = ["GroupCommit"]
