"""Commands to flag and look at flags: flag, show (from a config's journal or ``--from`` a source)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flagpipe.cli.commands import config_command
from flagpipe.cli.common import (
    _console,
    _fail,
    _inline,
    _load,
    _pairs,
    _parse_cli_value,
    _text,
)
from flagpipe.cli.render import (
    EVENT_COLUMNS,
    MAX_ROWS,
    event_cells,
    one_line,
    print_json,
    print_line,
    print_table,
)
from flagpipe.cli.sources import FROM_OPTION, flag_source
from flagpipe.core.secrets import mask_userinfo, mask_userinfo_in

if TYPE_CHECKING:
    from flagpipe.core.event import FlagEvent
    from flagpipe.core.receipt import FlagReceipt


@config_command(
    click.option("--field", "-f", "fields", multiple=True, metavar="NAME=VALUE", help="A field value (repeatable)."),
    click.option("--file", "files", multiple=True, metavar="NAME=PATH", help="A file field (repeatable)."),
    click.option("--option", "-o", help="The reason (one of the configured options)."),
    click.option("--username", "-u", help="Who is flagging."),
    click.option("--comment", help="A free-text comment."),
)
def flag(
    ctx: click.Context,
    config: str | None,
    fields: tuple[str, ...],
    files: tuple[str, ...],
    option: str | None,
    username: str | None,
    comment: str | None,
    as_json: bool,
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
        try:
            receipt = flagger.flag(values, option=option, username=username, comment=comment)
        except Exception as exc:
            _fail_for_plugin(flagger, exc)
            raise
    if as_json:
        print_json(mask_userinfo_in(_receipt_json(receipt)))
    else:
        _print_receipt(receipt)
    if receipt.failed:
        raise SystemExit(1)


def _fail_for_plugin(flagger: Any, error: Exception) -> None:
    """When a plugin's hook raised, say which plugin and hook, and whether the flag was kept; else return."""
    from flagpipe.cli.blame import BEFORE_STORING, blame_plugin

    blamed = blame_plugin(flagger.plugins, error)
    if blamed is None:
        return
    plugin, hook = blamed
    outcome = "; the flag was not stored" if hook in BEFORE_STORING else ""
    _fail(f"plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}{outcome}")


def _receipt_json(receipt: FlagReceipt) -> dict[str, Any]:
    return {
        "stored": receipt.stored,
        "id": receipt.id,
        "reason": receipt.reason,
        "delivered": list(receipt.delivered),
        "skipped": list(receipt.skipped),
        "pending": list(receipt.pending),
        "failed": dict(receipt.failed),
    }


def _print_receipt(receipt: FlagReceipt) -> None:
    """``flagged ID`` (the full id: it was just made), then one line per callback, errors cut to fit."""
    from rich.text import Text

    console = _console()
    if not receipt.stored:
        print_line("not stored: ", receipt.reason or "")
        return
    console.print(f"flagged {receipt.id}")
    for name in receipt.delivered:
        console.print(f"  delivered to {_text(name)}")
    for name in receipt.skipped:
        console.print(f"  skipped by {_text(name)} (its when rule)")
    for name in receipt.pending:
        reason = mask_userinfo(receipt.failed.get(name) or "")
        head = Text.assemble("  ", ("pending", "yellow"), f" for {name}", ": " if reason else "")
        print_line(head, one_line(reason or ""))
    for name, reason in receipt.failed.items():
        if name not in receipt.pending:
            print_line(Text.assemble("  ", ("failed", "red"), f" {name}: "), mask_userinfo(reason))


@config_command(
    FROM_OPTION,
    click.option(
        "-n",
        "limit",
        default=10,
        show_default=True,
        type=click.IntRange(min=1),
        help="How many flags to show (a huge number shows them all).",
    ),
)
def show(ctx: click.Context, config: str | None, from_: str | None, limit: int, as_json: bool) -> None:
    """Show the latest flags as a table.

    From the config's journal, or --from a database (one ORDER BY ... LIMIT query).
    """
    limit = min(limit, MAX_ROWS)  # a huge number shows every flag
    with flag_source(ctx, config, from_) as source:
        if source is not None:
            _print_latest(source.latest(limit), "source", source.description, as_json=as_json)
            return
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
    _print_latest(events, "directory", str(directory), as_json=as_json)


def _print_latest(events: list[FlagEvent], key: str, where: str, *, as_json: bool) -> None:
    """The latest flags as JSON (``{key: where, "flags": [...]}``) or a table titled with ``where``."""
    if as_json:
        print_json({key: where, "flags": [e.model_dump(mode="json") for e in events]})
    elif not events:
        _console().print(_text(f"no flags yet in {where}"))
    else:
        print_table(EVENT_COLUMNS, [event_cells(e) for e in events], title=f"latest flags in {where}")
