"""``flagpipe redact --dry-run``: what a config's redaction would change in the latest flags, storing nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flagpipe.cli.commands import config_command
from flagpipe.cli.common import _console, _fail, _load, visible
from flagpipe.cli.render import print_json, print_line
from flagpipe.cli.sources import FROM_OPTION, journal_or_source

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.redaction import Redactor

#: What the preview shows for a file that redaction would withhold.
WITHHELD = "(file withheld)"


def preview(event: FlagEvent, where: str, redactor: Redactor, directory: Path | None = None) -> dict[str, Any]:
    """What ``redactor`` would do to ``event``: refused (and why), or the spans found and the changed values.

    With ``directory`` (where the event's files are), a block's detectors of files scan them too.
    """
    from flagpipe.core.redaction import METADATA_KEY, RedactionRefusedError

    try:
        after = redactor.redact(event, directory=directory)
    except RedactionRefusedError as exc:
        return {"where": where, "refused": str(exc), "found": {}, "changed": {}}
    changed: dict[str, Any] = {
        f"field {new.name}": WITHHELD if old.file is not None and new.file is None else new.value
        for new, old in zip(after.fields, event.fields, strict=True)
        if new is not old
    }
    if after.comment != event.comment:
        changed["comment"] = after.comment
    if after.username != event.username:
        changed["username"] = after.username
    before_counts = event.metadata.get(METADATA_KEY)
    after_counts = after.metadata.get(METADATA_KEY)
    found: dict[str, int] = {}
    if isinstance(after_counts, dict):
        earlier = before_counts if isinstance(before_counts, dict) else {}
        for name, count in after_counts.items():
            before = earlier.get(name, 0)
            if isinstance(count, int) and isinstance(before, int) and count > before:
                found[name] = count - before
    metadata = {k: v for k, v in after.metadata.items() if k != METADATA_KEY and event.metadata.get(k) is not v}
    if metadata:
        changed["metadata"] = metadata
    return {"where": where, "refused": None, "found": found, "changed": changed}


@config_command(
    FROM_OPTION,
    click.option(
        "--dry-run", is_flag=True, help="Only show what would change (required: stored flags are never rewritten)."
    ),
    click.option(
        "--last", "-n", "last", default=10, show_default=True, type=click.IntRange(min=1), help="How many flags."
    ),
)
def redact(ctx: click.Context, config: str | None, from_: str | None, dry_run: bool, last: int, as_json: bool) -> None:
    """Show what the config's redact: blocks would change in the latest flags; nothing is stored.

    Each flag is shown as the top-level redact: would store it, and as each callback with a redact:
    of its own would receive it: the detectors that fired, how many spans, and the new values.
    A block with a detector of files scans the flags' files in the flagging directory too.
    """
    if not dry_run:
        _fail(
            "flagpipe redact only previews: pass --dry-run "
            "(redact: applies to new flags; stored ones are not rewritten)"
        )
    loaded = _load(ctx, config)
    redactors = [("before storing", loaded.redactor)] if loaded.redactor is not None else []
    redactors += [(f"callback {e.name}", e.redactor) for e in loaded.chain if e.redactor is not None]
    if not redactors:
        _fail(f"{loaded.source} has no redact: block, at the top or on a callback")
    with journal_or_source(ctx, config, from_) as source:
        events = source.latest(last)
    directory = loaded.directory if from_ is None else None  # files of another source are not on this disk
    report = [
        {
            "id": event.id,
            "created_at": event.created_at.isoformat(),
            "redactions": [preview(event, w, r, directory) for w, r in redactors],
        }
        for event in events
    ]
    if as_json:
        print_json(report)
        return
    _print(report)


def _print(report: list[dict[str, Any]]) -> None:
    from rich.text import Text

    print_line(f"{len(report)} flags; nothing is stored (dry run)")
    console = _console()
    for flag in report:
        console.print()
        print_line(Text(f"flag {flag['id']} ({flag['created_at']})", style="bold"))
        for result in flag["redactions"]:
            if result["refused"]:
                print_line(f"  {result['where']}: refused: {result['refused']}")
                continue
            found = ", ".join(f"{name} {count}" for name, count in sorted(result["found"].items())) or "nothing found"
            print_line(f"  {result['where']}: {found}")
            for name, value in result["changed"].items():
                print_line(f"    {name}: {visible(value)}")


__all__ = ["preview", "redact"]
