"""Helpers for the sinks that speak HTTP: reading ``Retry-After`` (RFC 9110, 10.2.3), importing httpx.

The header holds either ``delay-seconds`` (a whole, non-negative number of seconds) or an HTTP-date.
:func:`parse_retry_after` turns both into the number of seconds to wait, and ignores anything else.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["parse_retry_after", "require_httpx"]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait, or None when there is no usable value.

    :param value: the header's value: ``"120"`` (delay-seconds) or an HTTP-date such as
        ``"Wed, 21 Oct 2015 07:28:00 GMT"`` (the obsolete RFC 850 and asctime forms are read too;
        a date without a zone is UTC, as every HTTP-date is).
    :param now: the current time, for an HTTP-date (default: the clock, in UTC).
    :returns: a number of seconds, never negative: a date in the past means 0. None for a missing
        or empty header and for anything that is neither form (a negative or fractional number,
        garbage), which the caller treats as "no advice".
    """
    text = (value or "").strip()
    if text.isdigit() and text.isascii():
        return _delay_seconds(text)
    if not any(c.isalpha() for c in text):  # "", "-5", "1.5", "+3": not delay-seconds, and no date
        return None
    return _seconds_until(text, now if now is not None else datetime.now(timezone.utc))


def _delay_seconds(digits: str) -> float | None:
    try:
        return float(int(digits))
    except ValueError:  # more digits than Python converts: no sensible advice
        return None


def _seconds_until(text: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def require_httpx(callback: str, extra: str) -> ModuleType:
    """Import httpx for ``callback``, or raise a permanent error naming the extra that installs it."""
    import flagpipe

    try:
        import httpx
    except ImportError:
        raise flagpipe.PermanentError(f"the {callback} callback needs httpx: pip install 'flagpipe[{extra}]'") from None
    return httpx
