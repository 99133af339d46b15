"""Commands to flag and look at flags: flag, show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flagpipe.cli.common import (
    _console,
    _event_row,
    _fail,
    _handles_errors,
    _inline,
    _load,
    _pairs,
    _parse_cli_value,
    _text,
)
from flagpipe.cli.group import cli


@cli.command()
@click.option("--config", "-c", "config", metavar="CONFIG", help="The flagging.yaml to use.")
@click.option("--field", "-f", "fields", multiple=True, metavar="NAME=VALUE", help="A field value (repeatable).")
@click.option("--file", "files", multiple=True, metavar="NAME=PATH", help="A file field (repeatable).")
@click.option("--option", "-o", help="The reason (one of the configured options).")
@click.option("--username", "-u", help="Who is flagging.")
@click.option("--comment", help="A free-text comment.")
@click.pass_context
@_handles_errors
def flag(
    ctx: click.Context,
    config: str | None,
    fields: tuple[str, ...],
    files: tuple[str, ...],
    option: str | None,
    username: str | None,
    comment: str | None,
) -> None:
    """Flag one sample from the command line and say where it went."""
    from flagpipe.flagger import Flagger

    texts = _pairs(fields, "--field")
    paths = _pairs(files, "--file")
    loaded = _inline(_load(ctx, config))
    declared = {f.name for f in loaded.config.fields or ()}
    values: dict[str, Any] = {
        name: text if name in declared else _parse_cli_value(text) for name, text in texts.items()
    }
    values.update({name: Path(path) for name, path in paths.items()})
    with Flagger(loaded) as flagger:
        receipt = flagger.flag(values, option=option, username=username, comment=comment)
    console = _console()
    if not receipt.stored:
        console.print(f"not stored: {_text(receipt.reason)}")
        return
    console.print(f"flagged {receipt.id}")
    for name in receipt.delivered:
        console.print(f"  delivered to {_text(name)}")
    for name in receipt.skipped:
        console.print(f"  skipped by {_text(name)} (its when rule)")
    for name in receipt.pending:
        reason = receipt.failed.get(name)
        console.print(f"  [yellow]pending[/] for {_text(name)}" + (f": {_text(reason)}" if reason else ""))
    for name, reason in receipt.failed.items():
        if name not in receipt.pending:
            console.print(f"  [red]failed[/] {_text(name)}: {_text(reason)}")
    if receipt.failed:
        raise SystemExit(1)


@cli.command()
@click.option("--config", "-c", "config", metavar="CONFIG", help="The flagging.yaml to use.")
@click.option("-n", "limit", default=10, show_default=True, type=click.IntRange(min=1), help="How many flags to show.")
@click.pass_context
@_handles_errors
def show(ctx: click.Context, config: str | None, limit: int) -> None:
    """Show the latest flags as a table."""
    from rich.table import Table

    from flagpipe.core.journal import JOURNAL_PATH, Journal, JournalError

    loaded = _load(ctx, config)
    directory = loaded.directory
    events = []
    # Read the journal only: no Flagger, so showing neither creates the directory nor delivers anything.
    if (directory / JOURNAL_PATH).exists():
        try:
            journal = Journal(directory, durability=loaded.config.delivery.durability)
            try:
                events = journal.latest(limit)
            finally:
                journal.close()
        except JournalError as exc:
            _fail(str(exc))
    if not events:
        _console().print(_text(f"no flags yet in {directory}"))
        return
    table = Table(title=_text(f"latest flags in {directory}"))
    for header in ("when (UTC)", "option", "username", "fields"):
        table.add_column(header, overflow="fold")  # wrap long values, never cut them short
    table.add_column("id", no_wrap=True, min_width=max(len(e.id) for e in events))  # an id is copied whole
    for event in events:
        table.add_row(*_event_row(event))
    _console().print(table)
