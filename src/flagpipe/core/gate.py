"""The gate of a Flagger: admits flags until it closes, and lets ``close()`` wait for those in flight."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from flagpipe.core.journal_records import FlagNotStoredError

if TYPE_CHECKING:
    from collections.abc import Iterator


class FlagGate:
    """Counts flags in flight and stored; once closed, refuses new flags with :class:`FlagNotStoredError`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        #: True once :meth:`close` ran.
        self.closed = False
        #: How many flags were stored through this gate.
        self.stored = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Let one flag through, or raise :class:`FlagNotStoredError` when the gate is closed."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def enter(self) -> None:
        """Let one flag in (pair with :meth:`leave`), or raise :class:`FlagNotStoredError` when closed."""
        with self._lock:
            if self.closed:
                raise FlagNotStoredError("this Flagger is closed; the flag was not stored")
            self._in_flight += 1

    def leave(self) -> None:
        """A flag let in by :meth:`enter` is done."""
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0 and self.closed:  # only close() waits for the gate
                self._idle.notify_all()

    def count_stored(self) -> None:
        """Count one stored flag."""
        with self._lock:
            self.stored += 1

    def close(self, timeout: float) -> bool:
        """Close the gate and wait up to ``timeout`` seconds for the flags in flight; False when already closed."""
        with self._idle:
            if self.closed:
                return False
            self.closed = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
        return True


__all__ = ["FlagGate"]
