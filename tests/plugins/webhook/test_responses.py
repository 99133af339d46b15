"""Classifying a webhook's answer, and the wait it asks for, without a server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

import flagpipe
from flagpipe.plugins.webhook.responses import classify, is_gone, retry_after_seconds


def answer(status: int, text: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, text=text, headers=headers)


def discord(status: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds(answer(429, **{"Retry-After": "42"})) == 42
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    assert retry_after_seconds(answer(503, **{"Retry-After": later})) == pytest.approx(120, abs=2)
    assert retry_after_seconds(answer(503, **{"Retry-After": "Sun Nov  6 08:49:37 1994"})) == 0


def test_discords_json_retry_after_when_the_header_gives_none() -> None:
    assert retry_after_seconds(discord(429, {"retry_after": 1.5})) == 1.5
    assert retry_after_seconds(discord(429, {"retry_after": 2.5}, **{"Retry-After": "3"})) == 3
    assert retry_after_seconds(discord(429, {"retry_after": 2.5}, **{"Retry-After": "soon"})) == 2.5
    for useless in (-1, True, "3", None):
        assert retry_after_seconds(discord(429, {"retry_after": useless})) is None
    assert retry_after_seconds(discord(429, ["not", "an", "object"])) is None  # type: ignore[arg-type]
    assert retry_after_seconds(answer(429, "{broken", **{"content-type": "application/json"})) is None
    assert retry_after_seconds(answer(429, **{"Retry-After": "-5"})) is None


@pytest.mark.parametrize(
    ("fmt", "status", "text", "gone"),
    [
        ("json", 410, "", True),
        ("json", 404, "", False),
        ("slack", 404, "no_service", True),
        ("slack", 404, "channel_not_found", True),
        ("slack", 404, "something else", False),
        ("discord", 404, '{"message": "Unknown Webhook"}', True),
        ("discord", 400, "", False),
    ],
)
def test_gone(fmt: str, status: int, text: str, gone: bool) -> None:
    assert is_gone(fmt, answer(status, text)) is gone


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (204, None),
        (408, flagpipe.RetryableError),
        (425, flagpipe.RetryableError),
        (429, flagpipe.RetryableError),
        (500, flagpipe.RetryableError),
        (503, flagpipe.RetryableError),
        (301, flagpipe.PermanentError),
        (400, flagpipe.PermanentError),
        (404, flagpipe.PermanentError),
        (410, flagpipe.DestinationDisabledError),
    ],
)
def test_classify(status: int, error: type[Exception] | None) -> None:
    response = answer(status, "echo tok-123456 back", **{"Retry-After": "7"})
    if error is None:
        classify(response, "json", "https://x.example/…", str)
        return
    with pytest.raises(error) as caught:
        classify(response, "json", "https://x.example/…", lambda text: text.replace("tok-123456", "***"))
    message = str(caught.value)
    assert message.startswith(f"HTTP {status} from https://x.example/…: echo *** back")
    if error is flagpipe.RetryableError:
        assert caught.value.retry_after == 7  # type: ignore[attr-defined]
    if 300 <= status < 400:
        assert "follow_redirects" in message
