"""Classifying a webhook's answer for the delivery lanes.

2xx is success; 408, 425, 429 and 5xx are retryable (with the destination's ``Retry-After``); 410 and
a Slack or Discord webhook that no longer exists disable the destination; other answers, redirects
included, are permanent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import flagpipe
from flagpipe.plugins.http_retry import parse_retry_after

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

__all__ = ["RETRYABLE_STATUSES", "SLACK_GONE_CODES", "classify", "is_gone", "retry_after_seconds"]

#: Statuses below 500 that are worth another try.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
#: Words in a Slack 404 that mean the webhook was removed.
SLACK_GONE_CODES = ("no_service", "no_active_hooks", "channel_not_found")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date), or else Discord's JSON ``retry_after``."""
    seconds = parse_retry_after(response.headers.get("retry-after"))
    if seconds is not None:
        return seconds
    if "json" in response.headers.get("content-type", ""):
        try:
            value = response.json().get("retry_after")
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return float(value)
    return None


def is_gone(webhook_format: str, response: httpx.Response) -> bool:
    """Whether the answer says the webhook no longer exists (410, or Slack's or Discord's 404)."""
    if response.status_code == 410:
        return True
    if webhook_format == "slack" and response.status_code == 404:
        body = response.text[:200]
        return any(code in body for code in SLACK_GONE_CODES)
    return webhook_format == "discord" and response.status_code == 404


def classify(response: httpx.Response, webhook_format: str, shown_url: str, scrub: Callable[[str], str]) -> None:
    """Return for a 2xx answer; otherwise raise the delivery error the lane acts on.

    :param webhook_format: the callback's ``format`` (``json``, ``slack`` or ``discord``).
    :param shown_url: the destination as errors may name it (scheme and host).
    :param scrub: masks the callback's secrets in text the server sent back.
    :raises flagpipe.DestinationDisabledError: the webhook is gone.
    :raises flagpipe.RetryableError: 408, 425, 429 or 5xx, with ``retry_after`` when the server gave one.
    :raises flagpipe.PermanentError: any other answer, a redirect included.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"HTTP {status} from {shown_url}"
    snippet = scrub(response.text[:120].strip())
    if snippet:
        detail += f": {snippet}"
    if is_gone(webhook_format, response):
        raise flagpipe.DestinationDisabledError(f"{detail} (the webhook is gone; fix it, then flagpipe retry)")
    if status in RETRYABLE_STATUSES or status >= 500:
        raise flagpipe.RetryableError(detail, retry_after=retry_after_seconds(response))
    if 300 <= status < 400:
        raise flagpipe.PermanentError(f"{detail} (a redirect; set the final URL, or follow_redirects: true)")
    raise flagpipe.PermanentError(detail)
