"""``--from URL``: the commands that read flags take them from a flag source instead of a config's journal.

``flagpipe show / stats / export --from URL`` read the flags a plugin's storage holds (the database
of a ``sql`` callback: ``postgresql+psycopg://...``, ``mysql+pymysql://...``, ``sqlite:///flags.db``)
through ``flagpipe_open_flag_source``. ``--from`` and ``--config`` exclude each other.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from flagpipe.cli.common import _fail, _load, _plugins

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flagpipe.core.sources import FlagSource

FROM_OPTION = click.option(
    "--from",
    "from_",
    metavar="URL",
    help="Read the flags from this source instead of a config's journal: the database URL of a sql "
    "callback (add ?table_prefix=...&schema=... when they are not the defaults).",
)


@contextlib.contextmanager
def flag_source(ctx: click.Context, config: str | None, from_: str | None) -> Iterator[FlagSource | None]:
    """The source ``--from`` names (closed after the block), or None to read the config's journal."""
    if from_ is None:
        yield None
        return
    if config is not None:
        _fail("give --config or --from, not both")
    from flagpipe.data.sources import is_url, open_flag_source

    if not is_url(from_):
        _fail(f"--from takes a URL such as postgresql+psycopg://host/db or sqlite:///flags.db, got {from_!r}")
    with open_flag_source(from_, plugins=_plugins(ctx)) as source:
        yield source


@contextlib.contextmanager
def journal_or_source(ctx: click.Context, config: str | None, from_: str | None) -> Iterator[FlagSource]:
    """The ``--from`` source, or the config's journal as a source (an error when it has no flags yet)."""
    from flagpipe.core.journal import JOURNAL_PATH
    from flagpipe.data.sources import JournalSource

    with flag_source(ctx, config, from_) as source:
        if source is not None:
            yield source
            return
        directory = _load(ctx, config).directory
        if not (directory / JOURNAL_PATH).exists():
            _fail(f"no flags yet: {directory / JOURNAL_PATH} does not exist")
        with JournalSource(directory) as journal:
            yield journal


__all__ = ["FROM_OPTION", "flag_source", "journal_or_source"]
