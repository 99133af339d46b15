"""``flagpipe doctor``: check the journal and, where it is safe, repair it."""

from __future__ import annotations

import click

from flagpipe.cli.commands import config_command
from flagpipe.cli.common import _console, _fail, _load, _text
from flagpipe.cli.render import print_json


@config_command(
    click.option(
        "--repair", is_flag=True, help="Rebuild a damaged journal from what is readable; clear stale entries."
    ),
    click.option(
        "--forget-lane",
        "forget",
        metavar="NAME",
        multiple=True,
        help="Drop the lane of a callback no config uses any more (it holds back purges). Repeatable.",
    ),
)
def doctor(ctx: click.Context, config: str | None, repair: bool, forget: tuple[str, ...], as_json: bool) -> None:
    """Check the flag journal: damage, unreadable flags, unused lanes; --repair fixes what is safe.

    Exit status 0 when the journal is sound (or was repaired), 1 when a problem remains.
    """
    from flagpipe.core.journal_repair import clear_stale_owners, diagnose, forget_lanes, require_idle, salvage

    loaded = _load(ctx, config)
    lanes = [entry.name for entry in loaded.chain]
    found = diagnose(loaded.directory, lanes)
    actions: list[str] = []
    if repair and found.damaged:
        require_idle(found)
        report = salvage(loaded.directory)
        copied = ", ".join(f"{count:,} {table}" for table, count in report.copied.items())
        actions.append(f"rebuilt {found.path}: copied {copied}; {report.lost_events:,} event(s) lost")
        actions.append(f"kept the damaged file as {report.damaged_copy}")
        found = diagnose(loaded.directory, lanes)
    if repair and found.stale_owners and not found.damaged:
        clear_stale_owners(loaded.directory, found.stale_owners)
        actions.append(f"cleared the lane registrations of {len(found.stale_owners)} process(es) that are gone")
    if forget:
        unknown = [name for name in forget if name in lanes]
        if unknown:
            _fail(f"callback(s) {', '.join(unknown)} are in the config's chain; only unused lanes can be dropped")
        dropped = forget_lanes(loaded.directory, forget)
        actions.append(f"dropped lane(s): {', '.join(dropped) or 'none'}")
        found = diagnose(loaded.directory, lanes)
    if as_json:
        print_json(
            {
                "journal": str(found.path),
                "ok": found.ok,
                "damaged": found.damaged,
                "problems": found.problems,
                "undecodable": [{"seq": seq, "id": event_id} for seq, event_id in found.undecodable],
                "unused_lanes": found.unused_lanes,
                "actions": actions,
            }
        )
    else:
        _print(found, actions)
    if not found.ok:
        raise SystemExit(1)


def _print(found: object, actions: list[str]) -> None:
    from flagpipe.core.journal_repair import Diagnosis

    assert isinstance(found, Diagnosis)
    console = _console()
    for action in actions:
        console.print(_text(action))
    for problem in found.problems:
        console.print(_text(f"problem: {problem}"))
    if found.damaged:
        console.print("run `flagpipe doctor --repair` with every process using this directory stopped")
    for seq, event_id in found.undecodable:
        console.print(_text(f"flag {event_id} (#{seq}) cannot be read back; the callbacks keep it as a dead letter"))
    for name in found.unused_lanes:
        console.print(_text(f"lane {name!r} is in no chain of this config; it holds back purges until it is "))
        console.print(_text(f"  delivered by its config, or dropped with `flagpipe doctor --forget-lane {name}`"))
    if found.ok:
        console.print(_text(f"{found.path}: ok"))


__all__ = ["doctor"]
