"""Commands to watch and steer delivery: status, retry, drain, purge."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from flagpipe.cli.commands import config_command
from flagpipe.cli.common import (
    _age,
    _console,
    _fail,
    _inline,
    _load,
    _open_journal,
    _text,
)
from flagpipe.cli.ids import resolve_id
from flagpipe.cli.render import Column, one_line, print_json, print_line, print_table
from flagpipe.core.secrets import mask_userinfo, mask_userinfo_in

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta

    from rich.text import Text

    from flagpipe.core.journal import LaneStatus

#: The columns of ``flagpipe status``.
STATUS_COLUMNS = (
    Column("callback"),
    Column("delivered", "number"),
    Column("skipped", "number"),
    Column("pending", "number"),
    Column("dead", "number"),
    Column("oldest pending"),
    Column("next try"),
    Column("last error", "text"),
)


def _status_cells(lane: LaneStatus, now: float) -> list[str | Text]:
    from rich.text import Text

    wait = lane.next_attempt_at - now
    if lane.disabled_reason:
        error: str | Text = Text.assemble(
            ("DISABLED", "red"),
            f" until `flagpipe retry --callback {lane.name}`: {one_line(mask_userinfo(lane.disabled_reason))}",
        )
    else:
        error = mask_userinfo(lane.last_error or "")
    return [
        lane.name,
        f"{lane.delivered:,}",
        f"{lane.skipped:,}",
        f"{lane.pending:,}",
        Text(f"{lane.dead:,}", style="red") if lane.dead else "0",
        _age(lane.oldest_pending_at),
        f"in {wait:.0f}s" if wait > 0 and lane.pending else "",
        error,
    ]


@config_command()
def status(ctx: click.Context, config: str | None, as_json: bool) -> None:
    """Per callback: delivered, pending, dead letters, oldest pending age and the last error."""
    loaded = _load(ctx, config)
    journal = _open_journal(loaded)
    try:
        lanes = {s.name: s for s in journal.status()}
        total = journal.count()
    finally:
        journal.close()
    chain = [lanes[entry.name] for entry in loaded.chain]
    if as_json:
        print_json({"events": total, "callbacks": [mask_userinfo_in(asdict(s)) for s in chain]})
        return
    now = time.time()
    print_table(
        STATUS_COLUMNS, [_status_cells(lane, now) for lane in chain], title=f"{total:,} flags in {loaded.directory}"
    )


@config_command(
    click.option("--callback", "callback", metavar="NAME", help="Only this callback's dead letters."),
    click.option("--id", "event_id", metavar="ID", help="Only this event (its id, or the first 8 or more characters)."),
)
def retry(ctx: click.Context, config: str | None, callback: str | None, event_id: str | None, as_json: bool) -> None:
    """Re-queue dead letters and re-enable disabled callbacks; the app (or `flagpipe drain`) delivers them."""
    loaded = _load(ctx, config)
    names = [entry.name for entry in loaded.chain]
    if callback is not None and callback not in names:
        _fail(f"no callback {callback!r} in the chain; callbacks: {', '.join(names)}")
    journal = _open_journal(loaded)
    try:
        if event_id is not None and journal.seq_of(event_id) is None:
            dead = journal.dead_letters(callback)
            event_id = resolve_id(event_id, (d.event_id for d in dead), among="dead letters")
        count = journal.requeue(callback, event_id)
    finally:
        journal.close()
    if as_json:
        print_json({"requeued": count, "callback": callback, "event_id": event_id})
        return
    _console().print(f"re-queued {count} dead letter(s); a running app delivers them, or run: flagpipe drain")


def _print_drained(lane: LaneStatus) -> None:
    """``NAME: N pending[, N dead][ (last error: ...)]`` on one line, the error cut to fit."""
    from rich.text import Text

    head = Text(f"{lane.name}: {lane.pending} pending")
    if lane.dead:
        head.append(", ")
        head.append(f"{lane.dead} dead", style="red")
    if lane.pending and lane.last_error:
        print_line(head.append(" (last error: "), f"{one_line(mask_userinfo(lane.last_error))})")
    else:
        print_line(head)


@config_command()
def drain(ctx: click.Context, config: str | None, as_json: bool) -> None:
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
        with Progress(console=_console(stderr=True), disable=as_json, transient=True) as progress:
            task = progress.add_task("delivering", total=total or 1)
            flagger.drain(on_step=lambda _lane: progress.update(task, completed=total - remaining()))
            progress.update(task, completed=total or 1)
        lanes = journal.status()
    if as_json:
        keys = ("name", "delivered", "pending", "dead", "last_error", "disabled_reason")
        print_json({"callbacks": [mask_userinfo_in({k: getattr(lane, k) for k in keys}) for lane in lanes]})
    else:
        for lane in lanes:
            _print_drained(lane)
    if any(lane.pending for lane in lanes):
        raise SystemExit(1)


def _age_option(parse: Callable[[str], timedelta], text: str) -> timedelta:
    """``--older-than`` as an age that a cutoff can be computed from, or a clear error."""
    from datetime import datetime, timezone

    try:
        age = parse(text)
        datetime.now(timezone.utc) - age
    except OverflowError:
        raise ValueError(f"age {text!r}: too large (--older-than)") from None
    except ValueError as exc:
        if str(exc).startswith("age"):
            raise
        raise ValueError(f"age {text!r}: not a usable age (e.g. 30d, 12h, 2w)") from None
    return age


@config_command(
    click.option("--older-than", "older_than", required=True, metavar="AGE", help="e.g. 30d, 12h, 2w."),
    click.option("--dry-run", is_flag=True, help="Only say what would be removed."),
    click.option("--remove-files", is_flag=True, help="Also delete files that only the removed events used."),
)
def purge(
    ctx: click.Context, config: str | None, older_than: str, dry_run: bool, remove_files: bool, as_json: bool
) -> None:
    """Remove old events that every callback has handled (and files no other event uses)."""
    from flagpipe.core.retention import parse_age
    from flagpipe.core.retention import purge as purge_journal

    age = _age_option(parse_age, older_than)
    loaded = _load(ctx, config)
    journal = _open_journal(loaded)
    try:
        names = [entry.name for entry in loaded.chain]
        report = purge_journal(
            journal, loaded.directory, older_than=age, lanes=names, dry_run=dry_run, remove_files=remove_files
        )
    finally:
        journal.close()
    if as_json:
        print_json({"dry_run": dry_run, "older_than": older_than, "events": report.events, "files": report.files})
        return
    verb = "would remove" if dry_run else "removed"
    _console().print(
        f"{verb} {report.events:,} event(s) and {len(report.files):,} file(s) older than {_text(older_than)}"
    )
