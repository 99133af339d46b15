"""``flagpipe sql``: create the tables ahead of time, or print their DDL for a database administrator.

SQLAlchemy is imported only when a command runs, never to list the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.plugins.sql.settings import SQLSettings


@click.group(name="sql")
def sql_group() -> None:
    """The sql callback's database: create its tables, print their DDL."""


def _from_config(config: str, callback: str | None) -> tuple[SQLSettings, Path]:
    from flagpipe.plugins.config_entry import callback_settings
    from flagpipe.plugins.sql.settings import SQLSettings

    return callback_settings(config, "sql", callback, SQLSettings)


@sql_group.command(name="init")
@click.option("--config", "config", metavar="FILE", help="The flagging config whose sql callback to set up.")
@click.option("--callback", metavar="NAME", help="Which sql callback of the config (when it has several).")
@click.option("--url", metavar="URL", help="A database URL instead of a config.")
@click.option("--table-prefix", default="flagpipe_", show_default=True, help="With --url: the tables' prefix.")
@click.option("--schema", default=None, help="With --url: the PostgreSQL schema (MariaDB/MySQL database).")
@click.option("--print", "print_only", is_flag=True, help="Print the DDL instead of running it (no connection).")
def init(
    config: str | None, callback: str | None, url: str | None, table_prefix: str, schema: str | None, print_only: bool
) -> None:
    """Create (or upgrade) the sql callback's tables, as a user that may run DDL.

    Then the app can run with create_tables: false and a user that may only SELECT and INSERT.
    """
    import sqlalchemy as sa

    from flagpipe.plugins.sql.migrations import ddl_statements, ensure_schema
    from flagpipe.plugins.sql.settings import SQLSettings
    from flagpipe.plugins.sql.tables import build_tables

    if (config is None) == (url is None):
        raise click.UsageError("give either --config or --url")
    directory: Path | None = None
    if config is not None:
        settings, directory = _from_config(config, callback)
    else:
        settings = SQLSettings.model_validate({"url": url, "table_prefix": table_prefix, "schema": schema})
    tables = build_tables(settings.table_prefix, settings.db_schema)
    if print_only:
        for statement in ddl_statements(sa.make_url(settings.url.get_secret_value()), tables):
            click.echo(f"{statement};\n")
        return
    from flagpipe.plugins.sql.engine import create_engine
    from flagpipe.plugins.sql.errors import classify

    engine = create_engine(settings, directory)
    try:
        version = ensure_schema(engine, tables, create=True)
    except Exception as exc:  # noqa: BLE001 - explained in one line, like a delivery error
        error = classify(
            exc,
            dialect=engine.dialect.name,
            doing="creating the tables",
            where=settings.safe_url,
            secrets=settings.secrets(),
        )
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    names = ", ".join(t.name for t in tables)
    click.echo(f"{names} are ready in {settings.safe_url} (layout version {version})")


__all__ = ["sql_group"]
