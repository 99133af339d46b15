"""Where flags are read from: a flagging directory's journal, or a source a plugin opens.

:class:`JournalSource` is the journal as a :class:`flagpipe.FlagSource`, so ``read_flags``, ``export``
and ``stats`` read a directory and a database URL through one interface. :func:`open_flag_source`
turns a URL (``postgresql+psycopg://...``, ``sqlite:///flags.db``, ``s3://...``) into the source a
plugin offers through ``flagpipe_open_flag_source``; the data layer never imports a plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.core.sources import FlagFilter, FlagSource
from flagpipe.data.records import SourceError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.host import PluginHost

__all__ = ["JournalSource", "is_url", "open_flag_source"]


def is_url(source: object) -> bool:
    """True when ``source`` is a URL (``scheme://...``) rather than a local path."""
    if not isinstance(source, str):
        return False
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()


def _scheme(source: str) -> str:
    return source.partition("://")[0]


def open_flag_source(
    source: str, storage_options: Mapping[str, Any] | None = None, *, plugins: PluginHost | None = None
) -> FlagSource:
    """The :class:`flagpipe.FlagSource` a plugin offers for the URL ``source``.

    :param plugins: the plugin host to ask (by default one built from the environment's policy).
    :raises SourceError: when no installed plugin reads sources of that scheme.
    """
    if plugins is None:
        from flagpipe.core.host import create_plugin_host

        plugins = create_plugin_host()
    opened = plugins.open_flag_source(source, storage_options)
    if opened is None:
        raise SourceError(
            f"cannot read flags from {_scheme(source)}:// sources: no installed plugin reads them "
            "(the sql plugin reads sqlite:///, postgresql+psycopg:// and mysql+pymysql:// URLs)"
        )
    return opened


class JournalSource(FlagSource):
    """The flags of a flagging directory's journal, in the order they were accepted.

    The journal has no index on the filter's columns, so filters are applied while reading.
    """

    def __init__(self, directory: Path) -> None:
        from flagpipe.core.journal import JOURNAL_PATH, Journal

        if not (directory / JOURNAL_PATH).is_file():
            raise SourceError(f"no flags in {directory}: {directory / JOURNAL_PATH} does not exist")
        self.directory = directory
        self.description = str(directory)
        self._journal: Journal | None = Journal(directory)

    def _open(self) -> Any:
        if self._journal is None:
            raise SourceError(f"the journal source of {self.directory} is closed")
        return self._journal

    def events(self, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
        """Every event (that passes the filter), oldest first, read in batches."""
        wanted = flag_filter or FlagFilter()
        for _, event in self._open().iter_events():
            if wanted.matches(event):
                yield event

    def latest(self, limit: int, flag_filter: FlagFilter | None = None) -> list[FlagEvent]:
        """The newest ``limit`` events (one indexed query when nothing is filtered)."""
        if limit > 0 and (flag_filter is None or not flag_filter.active):
            events: list[FlagEvent] = self._open().latest(limit)
            return events
        return super().latest(limit, flag_filter)

    def count(self, flag_filter: FlagFilter | None = None) -> int:
        """How many events pass the filter (one ``COUNT`` when nothing is filtered)."""
        if flag_filter is None or not flag_filter.active:
            return int(self._open().count())
        return super().count(flag_filter)

    def close(self) -> None:
        """Close the journal."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
