"""Commands to watch and steer delivery: status, retry, drain, purge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from flagpipe.cli.common import (
    _CONFIG_OPTION,
    _age,
    _console,
    _fail,
    _handles_errors,
    _inline,
    _load,
    _open_journal,
    _text,
)
from flagpipe.cli.group import cli

if TYPE_CHECKING:
    pass


@cli.command()
@_CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@_handles_errors
def status(ctx: click.Context, config: str | None, as_json: bool) -> None:
    """Per callback: delivered, pending, dead letters, oldest pending age and the last error."""
    import time
    from dataclasses import asdict

    from rich.table import Table

    loaded = _load(ctx, config)
    journal = _open_journal(loaded)
    try:
        lanes = {s.name: s for s in journal.status()}
        total = journal.count()
    finally:
        journal.close()
    chain = [lanes[entry.name] for entry in loaded.chain]
    if as_json:
        click.echo(json.dumps({"events": total, "callbacks": [asdict(s) for s in chain]}, indent=2))
        return
    table = Table("callback", "delivered", "skipped", "pending", "dead", "oldest pending", "next try", "last error")
    for lane in chain:
        wait = lane.next_attempt_at - time.time()
        error = lane.last_error or ""
        if lane.disabled_reason:
            error = f"[red]DISABLED[/] until `flagpipe retry --callback {lane.name}`: {_text(lane.disabled_reason)}"
        else:
            error = _text(error)
        table.add_row(
            lane.name,
            f"{lane.delivered:,}",
            f"{lane.skipped:,}",
            f"{lane.pending:,}",
            f"[red]{lane.dead:,}[/]" if lane.dead else "0",
            _age(lane.oldest_pending_at),
            f"in {wait:.0f}s" if wait > 0 and lane.pending else "",
            error,
        )
    _console().print(f"{total:,} flags in {loaded.directory}")
    _console().print(table)


@cli.command()
@_CONFIG_OPTION
@click.option("--callback", "callback", metavar="NAME", help="Only this callback's dead letters.")
@click.option("--id", "event_id", metavar="ID", help="Only this event.")
@click.pass_context
@_handles_errors
def retry(ctx: click.Context, config: str | None, callback: str | None, event_id: str | None) -> None:
    """Re-queue dead letters and re-enable disabled callbacks; the app (or `flagpipe drain`) delivers them."""
    loaded = _load(ctx, config)
    names = [entry.name for entry in loaded.chain]
    if callback is not None and callback not in names:
        _fail(f"no callback {callback!r} in the chain; callbacks: {', '.join(names)}")
    journal = _open_journal(loaded)
    try:
        count = journal.requeue(callback, event_id)
    finally:
        journal.close()
    _console().print(f"re-queued {count} dead letter(s); a running app delivers them, or run: flagpipe drain")


@cli.command()
@_CONFIG_OPTION
@click.pass_context
@_handles_errors
def drain(ctx: click.Context, config: str | None) -> None:
    """Deliver everything pending now, ignoring back-off, with a progress bar."""
    from rich.progress import Progress

    from flagpipe.flagger import Flagger

    loaded = _inline(_load(ctx, config))
    with Flagger(loaded) as flagger:
        journal = flagger.journal
        assert journal is not None

        def remaining() -> int:
            return sum(s.pending for s in journal.status())

        total = remaining()
        with Progress(console=_console()) as progress:
            task = progress.add_task("delivering", total=total or 1)
            flagger.drain(on_step=lambda _lane: progress.update(task, completed=total - remaining()))
            progress.update(task, completed=total or 1)
        lanes = journal.status()
    for lane in lanes:
        note = f", [red]{lane.dead} dead[/]" if lane.dead else ""
        error = f" (last error: {_text(lane.last_error)})" if lane.pending and lane.last_error else ""
        _console().print(f"{lane.name}: {lane.pending} pending{note}{error}")
    if any(lane.pending for lane in lanes):
        raise SystemExit(1)


@cli.command()
@_CONFIG_OPTION
@click.option("--older-than", "older_than", required=True, metavar="AGE", help="e.g. 30d, 12h, 2w.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--remove-files", is_flag=True, help="Also delete files that only the removed events used.")
@click.pass_context
@_handles_errors
def purge(ctx: click.Context, config: str | None, older_than: str, dry_run: bool, remove_files: bool) -> None:
    """Remove old events that every callback has handled (and files no other event uses)."""
    from flagpipe.core.retention import parse_age
    from flagpipe.core.retention import purge as purge_journal

    age = parse_age(older_than)
    loaded = _load(ctx, config)
    journal = _open_journal(loaded)
    try:
        names = [entry.name for entry in loaded.chain]
        report = purge_journal(
            journal, loaded.directory, older_than=age, lanes=names, dry_run=dry_run, remove_files=remove_files
        )
    finally:
        journal.close()
    verb = "would remove" if dry_run else "removed"
    _console().print(f"{verb} {report.events:,} event(s) and {len(report.files):,} file(s) older than {older_than}")
