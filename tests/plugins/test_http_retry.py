"""The one ``Retry-After`` parser of the HTTP sinks (RFC 9110, section 10.2.3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagpipe.plugins.http_retry import parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("42", 42.0),
        (" 120 ", 120.0),  # surrounding whitespace is not part of the value
        ("007", 7.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),  # IMF-fixdate, the preferred form
        ("Sunday, 01-Mar-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Sun Mar  1 12:02:00 2026", 120.0),  # obsolete asctime form: no zone, so UTC
        ("Sun, 01 Mar 2026 12:00:00 GMT", 0.0),  # now
        ("Sat, 28 Feb 2026 12:00:00 GMT", 0.0),  # in the past: retry at once
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_delay_seconds_and_http_dates(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "-5", "-0.5", "1.5", "+3", "1e3", "inf", "nan", "soon", "٣", "12 seconds", "Mon, 99 Foo 2026"],
)
def test_anything_else_is_no_advice(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_a_date_is_measured_against_the_clock_by_default() -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    assert parse_retry_after(format_datetime(later, usegmt=True)) == pytest.approx(90, abs=2)


def test_absurdly_long_numbers_are_ignored_not_raised() -> None:
    assert parse_retry_after("9" * 5000) is None


@given(st.integers(min_value=0, max_value=10**12))
def test_every_delay_seconds_value_round_trips(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == seconds


@given(st.integers(min_value=-(10**8), max_value=10**8))
def test_every_http_date_gives_the_seconds_until_it_or_zero(offset: int) -> None:
    when = NOW + timedelta(seconds=offset)
    assert parse_retry_after(format_datetime(when, usegmt=True), now=NOW) == max(0, offset)


@given(st.text(max_size=40))
def test_never_negative_and_never_raises(header: str) -> None:
    seconds = parse_retry_after(header, now=NOW)
    assert seconds is None or seconds >= 0
