"""Short turns for background work, so a ``flag()`` waiting for the interpreter lock gets it at once.

CPython runs one thread at a time. A thread that computes without blocking keeps the interpreter
lock until another thread has waited for it for ``sys.getswitchinterval()`` (5 ms by default), so a
``flag()`` call arriving while a delivery worker decodes or formats a batch of events would wait up
to that long for its turn. Workers that handle events one by one call :func:`take_turns` (or
:func:`let_others_run`) between events: each pause releases the lock for a moment, which bounds a
waiting ``flag()`` to the work of a few events, and costs a microsecond or two when no one waits.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

ItemT = TypeVar("ItemT")

#: How many events a worker handles between two pauses (each takes some tens of µs).
TURN = 8


def let_others_run() -> None:
    """Release the interpreter lock for a moment: a thread waiting for it runs now."""
    time.sleep(0)


def take_turns(items: Iterable[ItemT], every: int = TURN) -> Iterator[ItemT]:
    """Yield ``items``, letting other threads run after every ``every`` of them."""
    for index, item in enumerate(items, 1):
        yield item
        if index % every == 0:
            let_others_run()


__all__ = ["TURN", "let_others_run", "take_turns"]
