"""One compiled pass over a text: where the detectors of a ``redact:`` block find something.

Every detector with a ``pattern`` becomes one alternative of a single regular expression, searched
once from left to right: Python's ``re`` for detectors (code, from plugins), or the ``regex``
library, whose searches take a timeout, for the custom ``patterns:`` of a config (a second pass). A candidate a
detector's ``check`` rejects is offered to the later detectors that also match at that position,
then the search goes on one character further, so an overlapping candidate is not missed.
Detectors with ``find`` (models) scan the text on their own; their spans that overlap a pattern's
are left out.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from flagpipe.core.redact_settings import REDACT_EXTRA

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe.core.detectors import Detector

#: A found span: start, end and the detector's name.
Found = tuple[int, int, str]


class ScanTimeoutError(Exception):
    """A text took longer to scan than the ``redact: timeout`` allows (a backtracking pattern)."""


def _regex() -> Any:
    try:
        import regex
    except ImportError:  # pragma: no cover - the redact extra is part of the dev install
        raise ValueError(f"redaction needs the regex library: {REDACT_EXTRA}") from None
    return regex


class Scanner:
    """Detectors compiled into one search, bounded by ``timeout`` seconds per text.

    :param bounded: compile with the ``regex`` library, whose searches stop at the timeout (for
        patterns from a config); else with ``re`` (faster; for detectors' own patterns), where the
        timeout is checked between matches only.
    """

    def __init__(self, detectors: Sequence[Detector], timeout: float, *, bounded: bool = True) -> None:
        regex = _regex() if bounded else re
        self.bounded = bounded
        self.timeout = timeout
        self._finders = tuple(d for d in detectors if d.find is not None)
        #: Per detector with a pattern: (the detector, its own compiled pattern, its wrapped alternative).
        self._patterns: list[tuple[Detector, Any, str, int]] = []
        global_flags = regex.IGNORECASE | regex.MULTILINE | regex.DOTALL | regex.VERBOSE
        for detector in detectors:
            if detector.pattern is None:
                continue
            try:
                single = regex.compile(detector.pattern, *((regex.VERSION0,) if bounded else ()))
            except (regex.error, re.error) as exc:
                raise ValueError(f"detector {detector.name!r}: not a valid regular expression: {exc}") from None
            if single.flags & global_flags:
                raise ValueError(
                    f"detector {detector.name!r}: its pattern sets a global flag such as (?i); "
                    "use a scoped group such as (?i:...) so the flag stays inside the pattern"
                )
            self._patterns.append((detector, single, f"({detector.pattern})", single.groups))
        #: The combined search for each set of detectors a text may hold (by their ``requires``).
        self._combined: dict[tuple[bool, ...], tuple[Any, list[tuple[int, Detector, Any]]] | None] = {}
        self._regex = regex

    def _search_for(self, text: str) -> tuple[Any, list[tuple[int, Detector, Any]]] | None:
        """The one compiled pattern of the detectors that may match in ``text``, and their groups."""
        active = tuple(not d.requires or any(r in text for r in d.requires) for d, _, _, _ in self._patterns)
        if active not in self._combined:
            parts: list[str] = []
            groups: list[tuple[int, Detector, Any]] = []
            index = 1
            for used, (detector, single, part, count) in zip(active, self._patterns, strict=True):
                if used:
                    parts.append(part)
                    groups.append((index, detector, single))
                    index += 1 + count
            flags = (self._regex.VERSION0,) if self.bounded else ()
            combined = self._regex.compile("|".join(parts), *flags) if parts else None
            self._combined[active] = None if combined is None else (combined, groups)
        return self._combined[active]

    def scan(self, text: str) -> list[Found]:
        """Every span to redact in ``text``, in order, none overlapping.

        :raises ScanTimeoutError: when the scan takes longer than the timeout.
        """
        found: list[Found] = []
        deadline = time.monotonic() + self.timeout
        search = self._search_for(text)
        if search is not None:
            combined, groups = search
            pos, length = 0, len(text)
            while pos < length:
                match = self._search(combined, text, pos, deadline)
                if match is None:
                    break
                start = match.start()
                hit = self._confirm(text, match, groups, deadline)
                if hit is None:
                    pos = start + 1
                    continue
                found.append(hit)
                pos = max(hit[1], start + 1)
        for detector in self._finders:
            assert detector.find is not None
            extra = [(s, e, detector.name) for s, e in detector.find(text) if 0 <= s < e <= len(text)]
            found = merge(found, extra)
        return found

    def _search(self, pattern: Any, text: str, pos: int, deadline: float, *, match: bool = False) -> Any:
        find = pattern.match if match else pattern.search
        left = self._left(deadline)
        return find(text, pos, timeout=left) if self.bounded else find(text, pos)

    def _left(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ScanTimeoutError(f"scanning took longer than {self.timeout:g} s")
        return left

    def _confirm(self, text: str, match: Any, groups: list[tuple[int, Detector, Any]], deadline: float) -> Found | None:
        """The span of the first detector, from the one that matched on, whose check accepts a candidate here."""
        start = match.start()
        first = next(i for i, (group, _, _) in enumerate(groups) if match.start(group) != -1)
        for position, (group, detector, single) in enumerate(groups[first:]):
            if position == 0:
                end = match.end(group)
            else:
                own = self._search(single, text, start, deadline, match=True)
                if own is None or own.end() == start:
                    continue
                end = own.end()
            verdict = True if detector.check is None else detector.check(text[start:end])
            if verdict is True:
                return start, end, detector.name
            if isinstance(verdict, tuple):
                inner_start, inner_end = verdict
                if 0 <= inner_start < inner_end <= end - start:
                    return start + inner_start, start + inner_end, detector.name
        return None

    def __call__(self, text: str) -> list[Found]:
        """Same as :meth:`scan`, turning the regex library's timeout into :class:`ScanTimeoutError`."""
        try:
            return self.scan(text)
        except TimeoutError:
            raise ScanTimeoutError(f"scanning took longer than {self.timeout:g} s") from None


def merge(found: list[Found], extra: list[Found]) -> list[Found]:
    """``found`` plus the spans of ``extra`` that overlap none of it (nor each other), in order."""
    merged = list(found)
    for span in sorted(extra):
        if not any(span[0] < e and s < span[1] for s, e, _ in merged):
            merged.append(span)
    return sorted(merged)


__all__ = ["Found", "ScanTimeoutError", "Scanner", "merge"]
