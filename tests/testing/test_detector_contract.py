"""The detector contract of the test kit, run on the built-in detectors and on a plugin's own."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from flagpipe import Detector
from flagpipe.plugins.redact.numbers import CREDIT_CARD, phone_detector
from flagpipe.plugins.redact.text import EMAIL
from flagpipe.testing import DetectorContract, find_spans


class TestEmailContract(DetectorContract):
    detector = EMAIL
    found: ClassVar[list[tuple[str, str]]] = [("write to ops@example.org today", "ops@example.org")]
    not_found: ClassVar[list[str]] = ["ops at example dot org", "user@localhost"]


class TestCardContract(DetectorContract):
    detector = CREDIT_CARD
    found: ClassVar[list[tuple[str, str]]] = [("card 4111 1111 1111 1111 expires 12/29", "4111 1111 1111 1111")]
    not_found: ClassVar[list[str]] = ["4111 1111 1111 1112", "5 add 7 = -12"]


class TestPhoneWithOptionsContract(DetectorContract):
    detector = phone_detector()
    options: ClassVar[dict[str, Any]] = {"region": "DE"}
    found: ClassVar[list[tuple[str, str]]] = [("ruf an: 030 12345678", "030 12345678")]
    not_found: ClassVar[list[str]] = ["am 15.01.2024 um 12:30"]


def _names(text: str) -> list[tuple[int, int]]:
    """A stand-in for a model: capitalised first-and-last-name pairs from a small list."""
    return [m.span() for m in re.finditer(r"\b(?:Ada Lovelace|Alan Turing)\b", text)]


class TestModelLikeDetectorContract(DetectorContract):
    detector = Detector("person", find=_names, description="people's names (a model stands here)")
    found: ClassVar[list[tuple[str, str]]] = [("flagged by Ada Lovelace yesterday", "Ada Lovelace")]
    not_found: ClassVar[list[str]] = ["flagged by ada, who loves turing machines"]


def test_find_spans_lists_each_span_in_order() -> None:
    assert find_spans(EMAIL, "a@example.com and b@example.org") == ["a@example.com", "b@example.org"]
