"""Redactors built from the built-in detectors, the way a config's ``redact:`` block builds them."""

from __future__ import annotations

from typing import Any

from flagpipe.core.redact_settings import RedactConfig
from flagpipe.core.redaction import Redactor
from flagpipe.plugins.redact.detectors import BUILTIN_DETECTORS

BUILTINS = {d.name: d for d in BUILTIN_DETECTORS}


def redactor(*detect: Any, **settings: Any) -> Redactor:
    """A redactor of ``detect`` (names, or one-key mappings of a name to options) and other settings."""
    return Redactor.build(RedactConfig.model_validate({"detect": list(detect), **settings}), BUILTINS)


def found(text: str, *detect: Any, **settings: Any) -> list[tuple[str, str]]:
    """What the detectors find in ``text``: (detector name, the text of the span), in order."""
    scanner = redactor(*detect, **settings).scan
    return [(name, text[start:end]) for start, end, name in scanner(text)]
