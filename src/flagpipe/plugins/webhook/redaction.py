"""Keeping a webhook's URL and header values out of errors and logs.

Webhook URLs often hold a token (Slack's and Discord's do), and header values hold credentials.
Errors show :func:`redact_url` (scheme and host only); :class:`SecretMask` replaces the secret parts
wherever they appear, including in the HTTP library's own log lines once :func:`mask_http_logs` has
installed it there (when a callback opens its client, never on import).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["HTTP_LOGGERS", "SecretMask", "mask_http_logs", "redact_url", "scrub", "secret_parts"]

#: The loggers of the HTTP library whose records are masked.
HTTP_LOGGERS = ("httpx", "httpcore")
#: What a secret is replaced with.
MASK = "***"


def redact_url(url: str) -> str:
    """Scheme and host only: ``https://hooks.slack.com/…``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{host}{port}", "/…" if parts.path not in ("", "/") else "", "", ""))


def secret_parts(url: str, header_values: Iterable[str]) -> set[str]:
    """The strings to mask wherever they appear: the URL, its userinfo, path, query, their long parts, headers."""
    values = list(header_values)
    parts = urlsplit(url)
    pieces = {url, parts.path, parts.query, *values}
    if parts.password:
        pieces |= {parts.password, f"{parts.username or ''}:{parts.password}", parts.netloc.rpartition("@")[0]}
    pieces |= {segment for segment in parts.path.split("/") if len(segment) >= 8}
    pieces |= {pair.partition("=")[2] for pair in parts.query.split("&")}
    pieces |= {word for value in values for word in value.split() if len(word) >= 8}
    pieces.discard("wait=true")
    return {p for p in pieces if len(p) >= 6}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first, so a URL goes as a whole)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class SecretMask(logging.Filter):
    """A log filter that masks the secrets it was given in every record it sees."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    @property
    def secrets(self) -> frozenset[str]:
        """The secrets masked so far."""
        return self._secrets

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these secrets too (thread-safe; the set only grows)."""
        with self._lock:
            self._secrets = self._secrets | set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with the secrets masked; never drop it."""
        secrets = self._secrets
        if secrets:
            record.msg, record.args = scrub(record.getMessage(), secrets), None
        return True


_HTTP_MASK = SecretMask()


def mask_http_logs(secrets: Iterable[str]) -> SecretMask:
    """Mask ``secrets`` in the HTTP library's log records; install the filter on first use.

    Idempotent: the one shared filter is added to each logger of :data:`HTTP_LOGGERS` at most once.
    """
    _HTTP_MASK.add(secrets)
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _HTTP_MASK not in logger.filters:
            logger.addFilter(_HTTP_MASK)
    return _HTTP_MASK
