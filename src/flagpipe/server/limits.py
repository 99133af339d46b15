"""Limits applied before a request costs anything: rate limits (token buckets), body size, JSON shape."""

from __future__ import annotations

import ipaddress
import json
import math
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from flagpipe.server.errors import ApiError, invalid

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request

    from flagpipe.config.server_model import RateLimit

__all__ = ["RateLimiter", "client_address", "parse_json", "read_body"]

#: JSON strings (skipped when counting brackets) and brackets.
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")

#: Buckets a limiter keeps before it forgets the idlest ones.
_MAX_BUCKETS = 10_000


class RateLimiter:
    """Token buckets by name (a key id or a client address), in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, last refill time)

    def take(self, name: str, limit: RateLimit) -> None:
        """Take one token from ``name``'s bucket; :class:`ApiError` 429 with ``Retry-After`` when empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(name, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - last) * limit.per_second)
            if tokens < 1:
                self._buckets[name] = (tokens, now)
                wait = max(1, math.ceil((1 - tokens) / limit.per_second))
                raise ApiError(
                    429, "rate_limited", f"too many requests; retry in {wait} s", headers={"Retry-After": str(wait)}
                )
            self._buckets[name] = (tokens - 1, now)
            if len(self._buckets) > _MAX_BUCKETS:
                oldest = sorted(self._buckets, key=lambda n: self._buckets[n][1])[: _MAX_BUCKETS // 10]
                for stale in oldest:
                    del self._buckets[stale]


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


def parse_json(body: bytes, max_depth: int) -> Any:
    """Parse a JSON body; 422 for malformed JSON or nesting deeper than ``max_depth``."""
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b"", body)):  # no parser recursion past the bound
        depth += 1 if match.group() in (b"[", b"{") else -1
        if depth > max_depth:
            raise invalid([], f"JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise invalid([], f"not valid JSON: {exc}") from None
