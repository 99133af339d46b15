"""The ``parquet`` callback: flags as a Hive-partitioned Parquet dataset on S3, GCS, Azure or a folder.

Registered like every sink, through ``flagpipe_register_callbacks``; it also adds ``flagpipe compact``
through ``flagpipe_register_commands``. Importing this package imports neither pyarrow nor fsspec:
they load when a ``parquet`` callback delivers, a dataset is read or ``flagpipe compact`` runs.

Modules: :mod:`.settings` (the YAML keys), :mod:`.layout` (names and partitions), :mod:`.storage`
(whole-object writes through fsspec), :mod:`.manifest` (``_flagpipe.json``), :mod:`.callback`,
:mod:`.errors`, :mod:`.read` (reading back, :func:`read_events`), :mod:`.compact` and
:mod:`.commands`. The shards are those of the ``hf_dataset`` callback
(:mod:`flagpipe.plugins.parquet_shards`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flagpipe
from flagpipe.plugins.parquet.callback import ParquetCallback
from flagpipe.plugins.parquet.settings import ParquetSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    import click


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``parquet`` callback."""
    return [ParquetCallback]


@flagpipe.hookimpl
def flagpipe_register_commands(cli: click.Group) -> None:
    """Add ``flagpipe compact``."""
    from flagpipe.plugins.parquet.commands import compact_command

    cli.add_command(compact_command)


@flagpipe.hookimpl
def flagpipe_open_flag_source(source: str, storage_options: Mapping[str, Any]) -> flagpipe.FlagSource | None:
    """Read flags back from the dataset at an fsspec URL (``s3://bucket/flags/``, ``file:///...``)."""
    from flagpipe.plugins.parquet.source import open_source

    return open_source(source, storage_options)


__all__ = ["ParquetCallback", "ParquetSettings"]
