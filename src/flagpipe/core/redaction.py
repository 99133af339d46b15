"""Redacting a flag event: what a ``redact:`` block finds in its text, masked, hashed or refused.

A :class:`Redactor` is built once per ``redact:`` block from the registered detectors and applied
to each event: the global one before the journal (``flag()`` refuses a flag it drops), a
callback's own one to the copy that callback receives. The event's ``metadata["redacted"]`` counts
the spans each detector found (never the values).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from flagpipe.core.detectors import Detector
from flagpipe.core.event import FILE_KINDS
from flagpipe.core.redact_scan import Found, Scanner, ScanTimeoutError, merge

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import JsonValue

    from flagpipe.core.event import FieldValue, FlagEvent
    from flagpipe.core.redact_settings import RedactConfig

#: The metadata key where an event records what redaction found: detector name to number of spans.
METADATA_KEY = "redacted"

#: How many hex digits of the HMAC a hashed span keeps (64 bits: stable, and short enough to read).
TOKEN_DIGITS = 16


class RedactionRefusedError(Exception):
    """Redaction refused a flag (``action: drop``, or a scan that timed out); the message says why."""


class UnknownDetectorError(ValueError):
    """A ``detect:`` entry names a detector no plugin registered; ``index`` is its place in the list."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def resolve_detectors(settings: RedactConfig, available: Mapping[str, Detector]) -> list[Detector]:
    """The detectors a ``redact:`` block asks for, configured, custom patterns first.

    :raises UnknownDetectorError: for a name no plugin registered (the error lists the known ones).
    :raises ValueError: for options a detector refuses (``UnknownDetectorError`` carries the index).
    """
    detectors = [Detector(name, pattern=pattern) for name, pattern in settings.patterns.items()]
    for index, entry in enumerate(settings.detect):
        detector = available.get(entry.name)
        if detector is None:
            known = ", ".join(sorted(available)) or "none"
            raise UnknownDetectorError(f"unknown detector {entry.name!r}; registered detectors: {known}", index)
        try:
            detectors.append(detector.with_options(entry.options))
        except (ValueError, TypeError) as exc:
            raise UnknownDetectorError(str(exc), index) from None
    return detectors


class Redactor:
    """One ``redact:`` block, compiled: apply it to events with :meth:`redact`."""

    def __init__(self, settings: RedactConfig, detectors: list[Detector]) -> None:
        self.settings = settings
        self.detector_names = tuple(d.name for d in detectors)
        custom = [d for d in detectors if d.name in settings.patterns]
        own = [d for d in detectors if d.name not in settings.patterns]
        self._scanners = tuple(
            Scanner(group, settings.timeout, bounded=bounded)
            for group, bounded in ((custom, True), (own, False))
            if group
        )
        self._key = settings.key.get_secret_value().encode() if settings.key is not None else None
        self._only = frozenset(settings.fields) if settings.fields is not None else None
        self._skip = frozenset(settings.skip_fields)
        self._action = settings.action

    @classmethod
    def build(cls, settings: RedactConfig, available: Mapping[str, Detector]) -> Redactor:
        """Resolve the block's detectors among ``available`` and compile them (see :func:`resolve_detectors`)."""
        return cls(settings, resolve_detectors(settings, available))

    # -- events ----------------------------------------------------------------------------------

    def redact(self, event: FlagEvent) -> FlagEvent:
        """The event with its text redacted (the same object when nothing was found).

        :raises RedactionRefusedError: when the action is ``drop`` and something was found, or a
            text took longer to scan than the timeout; the message says why, never what was found.
        """
        counts: collections.Counter[str] = collections.Counter()
        places: list[str] = []
        update: dict[str, Any] = {}
        fields = tuple(self._field(item, counts, places) for item in event.fields)
        if any(new is not old for new, old in zip(fields, event.fields, strict=True)):
            update["fields"] = fields
        if self.settings.comment and event.comment:
            comment = self._value(event.comment, counts, places, "the comment")
            if comment is not event.comment:
                update["comment"] = comment
        metadata = event.metadata
        if self.settings.metadata and metadata:
            scanned = {k: self._value(v, counts, places, "the metadata") for k, v in metadata.items()}
            if any(scanned[k] is not v for k, v in metadata.items()):
                metadata = scanned
        if counts:
            if self._action == "drop":
                found = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
                raise RedactionRefusedError(
                    f"redaction found {found} in {', '.join(dict.fromkeys(places))} and its action is drop"
                )
            metadata = {**metadata, METADATA_KEY: _merged(metadata.get(METADATA_KEY), counts)}
        if metadata is not event.metadata:
            update["metadata"] = metadata
        username = self._username(event.username)
        if username != event.username:
            update["username"] = username
        return event.model_copy(update=update) if update else event

    def _field(self, item: FieldValue, counts: collections.Counter[str], places: list[str]) -> FieldValue:
        if item.file is not None or item.kind in FILE_KINDS or item.name in self._skip:
            return item
        if self._only is not None and item.name not in self._only:
            return item
        value = self._value(item.value, counts, places, f"field {item.name!r}")
        return item if value is item.value else item.model_copy(update={"value": value})

    def _value(self, value: Any, counts: collections.Counter[str], places: list[str], where: str) -> Any:
        """``value`` with every string in it redacted; the same object when nothing changed."""
        if isinstance(value, str):
            return self._text(value, counts, places, where)
        if isinstance(value, list):
            items = [self._value(v, counts, places, where) for v in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if isinstance(value, dict):
            mapping = {k: self._value(v, counts, places, where) for k, v in value.items()}
            return mapping if any(mapping[k] is not v for k, v in value.items()) else value
        return value

    def scan(self, text: str) -> list[Found]:
        """Every span to redact in ``text``: the config's patterns first, then the detectors' (not overlapping).

        :raises ScanTimeoutError: when the scan takes longer than the block's ``timeout``.
        """
        if not self._scanners:
            return []
        if len(self._scanners) == 1:
            return self._scanners[0](text)
        patterns, detectors = (scanner(text) for scanner in self._scanners)
        return merge(patterns, detectors)

    def _text(self, text: str, counts: collections.Counter[str], places: list[str], where: str) -> str:
        try:
            spans = self.scan(text)
        except ScanTimeoutError as exc:
            raise RedactionRefusedError(f"redaction of {where} failed: {exc}") from None
        if not spans:
            return text
        places.append(where)
        pieces: list[str] = []
        last = 0
        for start, end, name in spans:
            counts[name] += 1
            pieces += (text[last:start], self.token(name, text[start:end]))
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _username(self, username: str | None) -> str | None:
        mode = self.settings.username
        if username is None or mode == "keep":
            return username
        return None if mode == "drop" else self._hashed("username", username)

    # -- tokens ----------------------------------------------------------------------------------

    def token(self, name: str, value: str) -> str:
        """What replaces ``value`` found by detector ``name``: ``<name>``, or ``<name:HMAC>`` with ``hash``."""
        return self._hashed(name, value) if self._action == "hash" else f"<{name}>"

    def _hashed(self, name: str, value: str) -> str:
        assert self._key is not None  # the settings refuse hash without a key
        digest = hmac.new(self._key, f"{name}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"<{name}:{digest[:TOKEN_DIGITS]}>"


def _merged(earlier: Any, counts: collections.Counter[str]) -> dict[str, JsonValue]:
    """Counts added to an event's earlier ``metadata["redacted"]`` (a global redaction's, for a callback's)."""
    merged: collections.Counter[str] = collections.Counter()
    if isinstance(earlier, dict):
        merged.update({k: v for k, v in earlier.items() if isinstance(v, int)})
    merged.update(counts)
    return dict(sorted(merged.items()))


__all__ = [
    "METADATA_KEY",
    "TOKEN_DIGITS",
    "RedactionRefusedError",
    "Redactor",
    "UnknownDetectorError",
    "resolve_detectors",
]
