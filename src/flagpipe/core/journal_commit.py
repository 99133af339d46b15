"""Group commit: threads appending at once share one transaction instead of queueing for one each.

The first thread to arrive writes (the *leader*); threads arriving while it writes queue their
items, each waiting on a lock of its own. When the leader's commit is done it hands the lead to the
first thread in the queue, which writes the whole queue in one transaction, and wakes only the
threads whose items it stored: no thread wakes up just to find it must wait again. A lone thread
writes at once, so grouping costs nothing without contention. Each thread gets its own item's
result or error back: an item is stored once its call returns.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ItemT = TypeVar("ItemT")


class _Slot(Generic[ItemT]):
    __slots__ = ("done", "error", "item", "lead", "result", "wake")

    def __init__(self, item: ItemT) -> None:
        self.item = item
        self.done = False
        #: Set (under the group's lock) when this slot's thread is to write the queue next.
        self.lead = False
        self.result = 0
        self.error: BaseException | None = None
        #: Held while the slot waits in the queue; released when it is stored or leads (None: never queued).
        self.wake: threading.Lock | None = None


class GroupCommit(Generic[ItemT]):
    """Runs ``write(items)`` for groups of items submitted by concurrent threads.

    :param write: stores a group in one transaction and returns one sequence number per item, or
        raises (then the group is written again one item at a time, so one bad item fails alone).
    """

    def __init__(self, write: Callable[[Sequence[ItemT]], list[int]]) -> None:
        self._write = write
        self._lock = threading.Lock()
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
        with self._lock:
            alone = not self._writing
            if alone:
                self._writing = True
            else:
                slot = _Slot(item)
                wake = slot.wake = threading.Lock()
                wake.acquire()
                self._queue.append(slot)
        if alone:
            return self._write_alone(item)
        self._wait(slot, wake)
        if not slot.done:  # it leads: write the queue, itself first
            with self._lock:
                group, self._queue = self._queue, []
            self._lead(group)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _write_alone(self, item: ItemT) -> int:
        """Write ``item`` on its own (no thread waits), then pass the lead on: the uncontended case."""
        try:
            result = self._write([item])[0]
            self.groups += 1
            self.items += 1
            return result
        finally:
            with self._lock:
                self._hand_over()

    def _wait(self, slot: _Slot[ItemT], wake: threading.Lock) -> None:
        """Wait until ``slot`` is stored or leads; if interrupted (Ctrl-C), leave the queue cleanly."""
        try:
            wake.acquire()
        except BaseException:
            with self._lock:
                if slot in self._queue:  # else a leader took it: it is stored (or fails) without this thread
                    self._queue.remove(slot)
                    if slot.lead:
                        self._hand_over()
            raise

    def _lead(self, group: list[_Slot[ItemT]]) -> None:
        """Write ``group`` (the leader's slot among it), pass the lead on, then wake the stored threads."""
        try:
            self._write_group(group)
        finally:
            with self._lock:
                self._hand_over()
            for slot in group:
                if slot.wake is not None and slot.done:
                    slot.wake.release()

    def _hand_over(self) -> None:
        """Wake the first queued thread to write next, or stop writing (under the lock)."""
        if self._queue:
            head = self._queue[0]
            head.lead = True
            assert head.wake is not None
            head.wake.release()
        else:
            self._writing = False

    def _write_group(self, group: list[_Slot[ItemT]]) -> None:
        try:
            self._store(group)
        except BaseException:
            if len(group) == 1:
                group[0].done = True
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
