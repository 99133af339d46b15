"""Detectors: the kinds of personal data and secrets that redaction finds in text, registered by plugins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

#: What a detector's ``name`` must look like (it shows in masks such as ``<email>``).
DETECTOR_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

#: A span of a text, ``(start, end)`` as in ``text[start:end]``.
Span = tuple[int, int]


@dataclass(frozen=True)
class Detector:
    """One kind of personal data or secret that redaction finds in text or files, registered by a plugin.

    A detector of text either has a ``pattern`` (a regular expression in Python's ``re`` syntax, with
    scoped flags only) that finds candidates, compiled together with every other detector's pattern
    into one pass over each text, and an optional ``check`` that confirms a candidate (a checksum, a parser);
    or a ``find`` that scans a text on its own (a model-based detector), returning spans.
    A detector of files has a ``scan_file`` (it may have a text side too): files are scanned only
    by the ``redact:`` blocks that list such a detector, and a file in which it finds something is
    withheld whole (files have no spans to mask) or, with ``action: drop``, refuses the flag.

    :param name: a unique name matching ``[a-z][a-z0-9_]*``; ``detect:`` lists it, and a masked
        span reads ``<name>``.
    :param pattern: the candidates' regular expression, or None for a detector with ``find``. Use
        lookarounds rather than ``\\b`` where a candidate must not touch neighbouring characters.
    :param check: given a candidate's text, True to redact all of it, False to reject it, or a
        ``(start, end)`` span inside it to redact only that part. None accepts every candidate.
    :param find: for a detector without a pattern: every ``(start, end)`` span to redact in a text.
    :param scan_file: given a flagged file's path and its media type (None when unknown), how many
        things it found there (0: the file is clean). Called before the file is stored (a global
        ``redact:``) or sent (a callback's); an exception fails closed, as a text scan's does.
    :param configure: given the options of a ``detect:`` entry (``- phone: {region: DE}``; empty
        when none are given), return the detector to use, configured; raise ``ValueError`` naming a
        bad option. Called when a config is loaded, so it is the place to import what ``check``
        needs. None when the detector takes no options.
    :param requires: substrings of which a text must hold at least one for the pattern to match
        there (``("@",)`` for emails); a text without any is not searched for this detector, a cheap
        test that keeps the pass short. Empty: every text is searched.
    :param description: one line on what it finds, for listings.
    """

    name: str
    pattern: str | None = None
    check: Callable[[str], bool | Span] | None = None
    find: Callable[[str], Iterable[Span]] | None = None
    scan_file: Callable[[Path, str | None], int] | None = None
    configure: Callable[[Mapping[str, Any]], Detector] | None = None
    requires: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        """Refuse a detector without a valid name, with both ``pattern`` and ``find``, or with nothing to scan."""
        if not DETECTOR_NAME_PATTERN.match(self.name or ""):
            raise ValueError(f"detector name {self.name!r} must match {DETECTOR_NAME_PATTERN.pattern}")
        if self.pattern is not None and self.find is not None:
            raise ValueError(f"detector {self.name!r} needs one of pattern and find, not both")
        if self.pattern is None and self.find is None and self.scan_file is None:
            raise ValueError(f"detector {self.name!r} needs a pattern or find (for text) or scan_file (for files)")
        if self.find is not None and self.check is not None:
            raise ValueError(f"detector {self.name!r}: check applies to pattern candidates, not to find")

    @property
    def scans_text(self) -> bool:
        """True when the detector looks at text (it has a ``pattern`` or a ``find``)."""
        return self.pattern is not None or self.find is not None

    def with_options(self, options: Mapping[str, Any]) -> Detector:
        """This detector as a ``redact:`` block uses it: configured with ``options`` (possibly empty).

        ``configure`` is called even without options, so a detector can check there that what it
        needs is installed, before the first flag.

        :raises ValueError: when the detector takes no options but was given some, or ``configure``
            refuses them (or cannot import what it needs).
        """
        if self.configure is None:
            if options:
                raise ValueError(f"detector {self.name!r} takes no options")
            return self
        try:
            configured = self.configure(options)
        except ImportError as exc:
            raise ValueError(f"detector {self.name!r} needs a library that is not installed: {exc}") from None
        if not isinstance(configured, Detector):
            raise TypeError(f"detector {self.name!r}: configure must return a Detector")
        return configured


def validate_detectors(result: object) -> list[Detector]:
    """Check what a ``flagpipe_register_detectors`` implementation returned; raise on anything wrong."""
    if result is None:
        return []
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"flagpipe_register_detectors must return a list of Detector, got {result!r}")
    for item in result:
        if not isinstance(item, Detector):
            raise TypeError(f"flagpipe_register_detectors must return Detector items, got {item!r}")
    return list(result)


__all__ = ["DETECTOR_NAME_PATTERN", "Detector", "Span", "validate_detectors"]
