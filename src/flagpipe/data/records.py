"""Flags as :class:`FlagRecord` objects: the form every source is read into before it becomes a DataFrame.

Timestamps written by Gradio (``str(datetime.datetime.now())``) carry no timezone: they are taken as
the local time of the machine reading them (the ``TZ`` of this process), then converted to UTC. A
naive ``since`` is read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flagpipe.core.columns import META_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.sources import FlagFilter, FlagSource

__all__ = [
    "FlagRecord",
    "RecordFilter",
    "SourceError",
    "isoformat",
    "iter_journal_records",
    "iter_source_records",
    "parse_since",
    "parse_timestamp",
    "record_from_event",
]


class SourceError(ValueError):
    """A source cannot be read as flags: the message says which file and why."""


@dataclass
class FlagRecord:
    """One flag read from any source, before it becomes a DataFrame row.

    Its event attributes are named like the columns of a DataFrame (``timestamp`` is the event's
    ``created_at``; see :mod:`flagpipe.core.columns`).

    :ivar fields: ``(name, kind, value)`` per field; file kinds carry an absolute path (or None).
    :ivar raw: for CSV sources, each field's cell after un-escaping (before any type conversion).
    :ivar source_key: for CSV sources, a stable hash of the file name, row number and row cells.
    """

    fields: list[tuple[str, str, Any]] = field(default_factory=list)
    option: str | None = None
    username: str | None = None
    comment: str | None = None
    timestamp: datetime | None = None
    id: str | None = None
    mode: str | None = None
    session_id: str | None = None
    app: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    source_key: str | None = None


def record_from_event(event: FlagEvent, directory: Path | None) -> FlagRecord:
    """The record of an event; file fields become paths under ``directory`` (relative when it is None)."""
    fields: list[tuple[str, str, Any]] = []
    for item in event.fields:
        if item.file is not None:
            path = item.file.path if directory is None else str(directory / item.file.path)
            fields.append((item.name, item.kind, path))
        else:
            fields.append((item.name, item.kind, item.value))
    values = {c.name: c.of(event) for c in META_COLUMNS}
    values["metadata"] = dict(event.metadata)
    return FlagRecord(fields=fields, **values)


def isoformat(value: datetime | None) -> str | None:
    """A time in ISO 8601, or None."""
    return None if value is None else value.isoformat()


def parse_timestamp(text: str) -> datetime | None:
    """A written timestamp as an aware UTC datetime (a naive one is local time); None if it is not one."""
    text = text.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(timezone.utc)  # a naive value is taken as local time


def parse_since(since: datetime | str | None) -> datetime | None:
    """``since`` as an aware UTC datetime; naive values (and ISO strings without offset) are local time."""
    if since is None:
        return None
    if isinstance(since, str):
        text = since.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            since = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"since must be an ISO 8601 date or time, got {since!r}") from None
    return since.astimezone(timezone.utc)


class RecordFilter:
    """The ``since``, ``options`` and ``apps`` filters of :func:`~flagpipe.data.read.read_flags` and ``export``."""

    def __init__(
        self,
        since: datetime | str | None,
        options: Iterable[str | None] | None,
        apps: Iterable[str | None] | None = None,
    ) -> None:
        self.since = parse_since(since)
        self.options = None if options is None else set(options)
        self.apps = None if apps is None else set(apps)

    def __call__(self, timestamp: datetime | None, option: str | None, app: str | None = None) -> bool:
        """True when a flag made at ``timestamp`` with ``option`` by ``app`` passes."""
        if self.since is not None and (timestamp is None or timestamp < self.since):
            return False
        if self.options is not None and option not in self.options:
            return False
        return self.apps is None or app in self.apps

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return self.since is not None or self.options is not None or self.apps is not None

    def flag_filter(self) -> FlagFilter:
        """The same filter for a :class:`flagpipe.FlagSource` (which may apply it where the data is)."""
        from flagpipe.core.sources import FlagFilter

        return FlagFilter.of(self.since, self.options, self.apps)

    def events(self, events: Iterable[FlagEvent]) -> Iterator[FlagEvent]:
        """The events that pass."""
        return (e for e in events if self(e.created_at, e.option, e.app))


def iter_source_records(source: FlagSource, flag_filter: FlagFilter | None = None) -> Iterator[FlagRecord]:
    """The records of a :class:`flagpipe.FlagSource`'s flags (file paths under its ``directory``)."""
    for event in source.events(flag_filter):
        yield record_from_event(event, source.directory)


def iter_journal_records(
    directory: Path,
    *,
    since: datetime | str | None = None,
    options: Iterable[str | None] | None = None,
    apps: Iterable[str | None] | None = None,
) -> Iterator[FlagRecord]:
    """The records of a flagging directory's journal, oldest first, read in batches."""
    from flagpipe.data.sources import JournalSource

    source = JournalSource(directory)
    try:
        yield from iter_source_records(source, RecordFilter(since, options, apps).flag_filter())
    finally:
        source.close()
