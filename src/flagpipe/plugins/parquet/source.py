"""The ``parquet`` callback's dataset as a :class:`flagpipe.FlagSource`: ``read_flags(URL)`` and ``--from URL``.

:func:`open_source` answers ``flagpipe_open_flag_source`` for the fsspec URLs the callback writes to
(``s3://``, ``gs://``, ``az://``, ``file://`` ...) and None for anything else. ``storage_options``
go to fsspec as in the callback's settings. The filters are pyarrow filters on the partitions and
columns (see :func:`flagpipe.plugins.parquet.read.read_events`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.sources import FlagFilter, FlagSource

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from flagpipe import FlagEvent

#: URL schemes of the object stores and file systems this source reads (fsspec protocol names).
SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "file", "memory")


def recognises(source: str) -> bool:
    """True when ``source`` is an fsspec URL of a kind the ``parquet`` callback writes to."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


class ParquetFlagSource(FlagSource):
    """The flags a ``parquet`` callback stored, read with the filters pushed into pyarrow."""

    def __init__(self, url: str, storage_options: Mapping[str, Any]) -> None:
        self.url = url
        self.storage_options = dict(storage_options)
        self.description = url  # credentials live in storage_options, never in the text shown
        local = url.partition("://")[2] if url.lower().startswith("file://") else None
        #: File paths read back (``files/<sha256>...``) are relative to a local dataset's folder.
        self.directory = None if local is None else Path(local).resolve()

    def events(self, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
        """The stored flags that pass the filter, oldest first."""
        from flagpipe.plugins.parquet.read import read_events

        wanted = flag_filter or FlagFilter()
        try:
            yield from read_events(
                self.url, self.storage_options or None, since=wanted.since, options=wanted.options, apps=wanted.apps
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise ValueError(f"cannot read flags from {self.description}: {exc}") from None


def open_source(source: str, storage_options: Mapping[str, Any]) -> ParquetFlagSource | None:
    """A :class:`ParquetFlagSource` for an fsspec URL, or None for a source that is not one."""
    return ParquetFlagSource(source, storage_options) if recognises(source) else None


__all__ = ["SCHEMES", "ParquetFlagSource", "open_source", "recognises"]
