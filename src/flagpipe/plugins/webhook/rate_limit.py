"""Spacing requests to one webhook destination, across every callback of the process."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``rate`` requests per second to one destination, across the whole process."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _next: ClassVar[dict[str, float]] = {}  # shared on purpose: one limit per destination

    @classmethod
    def wait(cls, key: str, rate: float | None) -> None:
        """Sleep until a request to ``key`` may go (at once when ``rate`` is None)."""
        if rate is None:
            return
        with cls._lock:
            now = time.monotonic()
            start = max(now, cls._next.get(key, now))
            cls._next[key] = start + 1.0 / rate
        if start > now:
            time.sleep(start - now)
