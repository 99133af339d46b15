"""The ``sql`` callback: flags from every replica in one database (SQLite, PostgreSQL, MariaDB/MySQL).

Registered like every sink, through ``flagpipe_register_callbacks``; it also adds ``flagpipe sql``
through ``flagpipe_register_commands``, and reads its databases back for ``flagpipe.read_flags(URL)``
and ``--from URL`` through ``flagpipe_open_flag_source``. Importing this package imports no database library:
SQLAlchemy and the drivers load when a ``sql`` callback delivers or a ``flagpipe sql`` command runs.

Modules: :mod:`.settings` (the YAML keys), :mod:`.tables` (the layout), :mod:`.migrations` (its
version), :mod:`.callback`, :mod:`.rows`, :mod:`.files`, :mod:`.errors`, :mod:`.read` (reading back),
:mod:`.source` (the database as a flag source), :mod:`.commands`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flagpipe
from flagpipe.plugins.sql.callback import SQLCallback
from flagpipe.plugins.sql.settings import SQLSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    import click


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``sql`` callback."""
    return [SQLCallback]


@flagpipe.hookimpl
def flagpipe_register_commands(cli: click.Group) -> None:
    """Add ``flagpipe sql``."""
    from flagpipe.plugins.sql.commands import sql_group

    cli.add_command(sql_group)


@flagpipe.hookimpl
def flagpipe_open_flag_source(source: str, storage_options: Mapping[str, Any]) -> flagpipe.FlagSource | None:
    """Read flags back from a database URL (``sqlite:///``, ``postgresql+psycopg://``, ``mysql+pymysql://``)."""
    from flagpipe.plugins.sql.source import open_source

    return open_source(source, storage_options)


__all__ = ["SQLCallback", "SQLSettings"]
