"""Limits applied before a request costs anything: rate limits (shared token buckets) and body size."""

from __future__ import annotations

import ipaddress
import math
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flagpipe.server.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from starlette.requests import Request

    from flagpipe.config.server_model import RateLimit

__all__ = ["RATE_LIMIT_PATH", "RateLimiter", "client_address", "read_body"]

#: Where the buckets live, relative to the flagging directory.
RATE_LIMIT_PATH = ".flagpipe/rate-limits.sqlite3"

#: Buckets idle this long (seconds) are full again, so they are forgotten.
_IDLE_SECONDS = 3600.0

#: Forget idle buckets once every this many requests.
_PRUNE_EVERY = 1000


class RateLimiter:
    """Token buckets by name (a key id or a client address), shared by every worker on one flagging dir.

    The buckets live in SQLite beside the journal: each take is one short write transaction, so
    ``--workers N`` share one limit instead of granting N times it. Nothing here needs to survive a
    crash, so the database does not sync to disk.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / RATE_LIMIT_PATH
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._takes = 0
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL)"
            " WITHOUT ROWID"
        )

    def take(self, name: str, limit: RateLimit) -> None:
        """Take one token from ``name``'s bucket; :class:`ApiError` 429 with ``Retry-After`` when empty."""
        taken, wait = self.take_up_to([(name, limit)], 1)
        if not taken:
            raise ApiError(
                429, "rate_limited", f"too many requests; retry in {wait} s", headers={"Retry-After": str(wait)}
            )

    def take_up_to(self, buckets: Sequence[tuple[str, RateLimit]], wanted: int) -> tuple[int, int]:
        """Take up to ``wanted`` tokens from each of ``buckets`` at once, the same number from each.

        Returns how many were taken (the fewest whole tokens any bucket holds, at most ``wanted``) and,
        when that is fewer than wanted, the seconds until every bucket holds a token again (else 0).
        """
        if wanted <= 0 or not buckets:
            return max(wanted, 0), 0
        with self._transaction() as now:
            levels = [self._level(name, limit, now) for name, limit in buckets]
            taken = min(wanted, *(math.floor(tokens) for tokens in levels))
            self._store(buckets, [tokens - taken for tokens in levels], now)
            self._takes += 1
            if self._takes % _PRUNE_EVERY == 0:
                self._db.execute("DELETE FROM buckets WHERE at < ?", (now - _IDLE_SECONDS,))
        if taken == wanted:
            return taken, 0
        waits = [(1 - (tokens - taken)) / limit.per_second for (_, limit), tokens in zip(buckets, levels, strict=True)]
        return taken, max(1, math.ceil(max(waits)))

    def give_back(self, buckets: Sequence[tuple[str, RateLimit]], tokens: int) -> None:
        """Return ``tokens`` to each of ``buckets`` (taken and not spent), up to each one's burst."""
        if tokens <= 0 or not buckets:
            return
        with self._transaction() as now:
            levels = [min(float(limit.burst), self._level(name, limit, now) + tokens) for name, limit in buckets]
            self._store(buckets, levels, now)

    @contextmanager
    def _transaction(self) -> Iterator[float]:
        """One write transaction (rolled back on error); yields the time now."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield time.time()  # wall-clock time: the workers share it, unlike their monotonic clocks
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _store(self, buckets: Sequence[tuple[str, RateLimit]], levels: Sequence[float], now: float) -> None:
        rows = [(name, tokens, now) for (name, _), tokens in zip(buckets, levels, strict=True)]
        self._db.executemany("INSERT OR REPLACE INTO buckets (name, tokens, at) VALUES (?, ?, ?)", rows)

    def _level(self, name: str, limit: RateLimit, now: float) -> float:
        """The tokens in ``name``'s bucket at ``now`` (full when new), inside the caller's transaction."""
        row = self._db.execute("SELECT tokens, at FROM buckets WHERE name = ?", (name,)).fetchone()
        tokens, last = (float(limit.burst), now) if row is None else (float(row[0]), float(row[1]))
        return min(float(limit.burst), tokens + max(0.0, now - last) * limit.per_second)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def client_address(request: Request, trusted: Sequence[str]) -> str:
    """The client's address: the peer, or from ``X-Forwarded-For`` when the peer is a trusted proxy.

    The header is read right to left, skipping trusted proxies; the first other address is the client.
    """
    peer = request.client.host if request.client else "unknown"
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not networks or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return hops[0] if hops else peer


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it (or its ``Content-Length``) passes ``max_bytes``."""
    too_large = ApiError(413, "too_large", f"the request body is larger than {max_bytes} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
