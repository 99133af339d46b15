"""Flag sources: where flags can be read back from besides a flagging directory's journal.

A plugin that knows a kind of storage (a database, Parquet files on object storage) answers the
``flagpipe_open_flag_source`` hook with a :class:`FlagSource` for the source strings it recognises.
``flagpipe.read_flags(URL)`` and ``flagpipe show / stats / export --from URL`` read through it, so
the reading code never imports a plugin.

A source has one required method, :meth:`FlagSource.events`; :meth:`FlagSource.latest`,
:meth:`FlagSource.count` and :meth:`FlagSource.stats` have answers computed from the events, which a
source overrides when its storage can answer faster (an ``ORDER BY ... LIMIT``, a ``GROUP BY``).
"""

from __future__ import annotations

import abc
import collections
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from typing_extensions import Self

    from flagpipe.core.event import FlagEvent

__all__ = ["FlagFilter", "FlagSource", "count_events", "count_redactions", "ranked"]


@dataclass(frozen=True)
class FlagFilter:
    """Which flags to read: made at or after ``since``, with one of ``options``, of one of ``apps``.

    ``None`` inside ``options`` or ``apps`` matches flags without one; ``options=None`` (or
    ``apps=None``) does not filter at all, and an empty tuple matches nothing. A naive ``since`` is
    local time, as everywhere in flagpipe; :meth:`of` turns it into UTC.
    """

    since: datetime | None = None
    options: tuple[str | None, ...] | None = None
    apps: tuple[str | None, ...] | None = None

    @classmethod
    def of(
        cls,
        since: datetime | None = None,
        options: Iterable[str | None] | None = None,
        apps: Iterable[str | None] | None = None,
    ) -> FlagFilter:
        """Build a filter from any iterables; ``since`` becomes an aware UTC time."""
        return cls(
            None if since is None else since.astimezone(timezone.utc),
            None if options is None else tuple(options),
            None if apps is None else tuple(apps),
        )

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return self.since is not None or self.options is not None or self.apps is not None

    def matches(self, event: FlagEvent) -> bool:
        """True when ``event`` passes every filter."""
        if self.since is not None and event.created_at < self.since:
            return False
        if self.options is not None and event.option not in self.options:
            return False
        return self.apps is None or event.app in self.apps


def count_events(events: Iterable[FlagEvent]) -> dict[str, Any]:
    """The counts of ``flagpipe stats --json`` (without ``latest``), computed from ``events``.

    ``total``; ``by_option`` and ``by_user`` largest first (see :func:`ranked`); ``by_day`` (UTC
    calendar days) in calendar order; and, when some flags were redacted, ``redacted``: how many
    flags, and per detector the spans found and the flags they were in (from ``metadata["redacted"]``).
    """
    by_option: collections.Counter[str | None] = collections.Counter()
    by_day: collections.Counter[str] = collections.Counter()
    by_user: collections.Counter[str | None] = collections.Counter()
    found: list[Any] = []
    for event in events:
        by_option[event.option] += 1
        by_day[event.created_at.astimezone(timezone.utc).date().isoformat()] += 1
        by_user[event.username] += 1
        if "redacted" in event.metadata:
            found.append(event.metadata["redacted"])
    counts: dict[str, Any] = {
        "total": sum(by_day.values()),
        "by_option": [{"option": k, "count": v} for k, v in ranked(by_option.items())],
        "by_day": [{"day": k, "count": by_day[k]} for k in sorted(by_day)],
        "by_user": [{"username": k, "count": v} for k, v in ranked(by_user.items())],
    }
    redacted = count_redactions(found)
    if redacted is not None:
        counts["redacted"] = redacted
    return counts


def count_redactions(found: Iterable[Any]) -> dict[str, Any] | None:
    """The ``redacted`` part of ``flagpipe stats``, from flags' ``metadata["redacted"]`` values.

    ``flags``: how many flags had something redacted; ``by_detector``: per detector, the spans found
    and the flags they were in, largest first. None when no flag had anything redacted.
    """
    spans: collections.Counter[str] = collections.Counter()
    flags: collections.Counter[str] = collections.Counter()
    redacted = 0
    for value in found:  # what redaction found in one flag: detector name to spans
        if isinstance(value, dict) and value:
            redacted += 1
            for name, count in value.items():
                if isinstance(count, int):
                    spans[name] += count
                    flags[name] += 1
    if not redacted:
        return None
    by_detector = [{"detector": k, "spans": v, "flags": flags[k or ""]} for k, v in ranked(spans.items())]
    return {"flags": redacted, "by_detector": by_detector}


def ranked(counts: Iterable[tuple[str | None, int]]) -> list[tuple[str | None, int]]:
    """``(value, count)`` pairs largest count first; ties by value, None (no value) last.

    Every source orders its counts this way, so the same flags give the same ``stats`` anywhere.
    """
    return sorted(counts, key=lambda pair: (-pair[1], pair[0] is None, pair[0] or ""))


class FlagSource(abc.ABC):
    """Flags stored somewhere a plugin knows, readable in flag order.

    Implement :meth:`events`; override :meth:`latest`, :meth:`count` and :meth:`stats` when the storage can answer
    them without reading every flag, and :meth:`close` when the source holds connections. A source
    is a context manager that closes itself.
    """

    #: Where the relative file paths of the flags are (the flagging directory they were made in),
    #: or None when unknown: ``read_flags`` then leaves file paths relative.
    directory: Path | None = None

    #: What the source is, for messages (a URL with its password hidden).
    description: str = "a flag source"

    @abc.abstractmethod
    def events(self, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
        """The flags that pass ``flag_filter`` (all when None), oldest first (time, then id).

        Read lazily (in chunks), so that millions of flags do not have to fit in memory.
        """

    def latest(self, limit: int, flag_filter: FlagFilter | None = None) -> list[FlagEvent]:
        """The newest ``limit`` flags that pass ``flag_filter``, oldest first."""
        if limit <= 0:
            return []
        return list(collections.deque(self.events(flag_filter), maxlen=limit))

    def count(self, flag_filter: FlagFilter | None = None) -> int:
        """How many flags pass ``flag_filter``."""
        return sum(1 for _ in self.events(flag_filter))

    def stats(self, flag_filter: FlagFilter | None = None) -> dict[str, Any]:
        """Counts of the flags that pass ``flag_filter``, in the shape of :func:`count_events`."""
        return count_events(self.events(flag_filter))

    def close(self) -> None:  # noqa: B027 - a source without resources has nothing to close
        """Release what the source holds (connections, open files)."""

    def __enter__(self) -> Self:
        """The source itself; it is closed when the block ends."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the source, whether the block raised or not."""
        self.close()
