"""Commands to get flags out and in: export, import-gradio, stats (``--from`` a source, or the journal)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flagpipe.cli.chat_render import print_chat_stats
from flagpipe.cli.commands import config_command
from flagpipe.cli.common import _console, _load
from flagpipe.cli.render import (
    EVENT_COLUMNS,
    MAX_ROWS,
    Column,
    event_cells,
    print_json,
    print_line,
    print_table,
)
from flagpipe.cli.sources import FROM_OPTION, journal_or_source

if TYPE_CHECKING:
    from rich.progress import Progress

    from flagpipe.core.event import FlagEvent

#: Exports of at least this many events show a progress bar.
PROGRESS_THRESHOLD = 5000


class _RichProgress:
    """Adapts a rich progress bar to :class:`flagpipe.data.export.Progress`."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def _progress_bar(enabled: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        disable=not enabled,
        transient=True,
    )


@config_command(
    FROM_OPTION,
    click.option(
        "--format", "format_", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True
    ),
    click.option("--output", "-o", "output", required=True, metavar="OUT", help="The file to write."),
    click.option("--since", metavar="TIME", help="Only flags made at or after this ISO 8601 time (naive = local)."),
    click.option(
        "--option", "options", multiple=True, metavar="OPTION", help="Only flags with this option (repeatable)."
    ),
    click.option("--app", "apps", multiple=True, metavar="APP", help="Only flags of this app (repeatable)."),
    click.option("--embed-files", is_flag=True, help="Parquet only: store each file's bytes next to its path."),
    click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on large exports)."),
)
def export(
    ctx: click.Context,
    config: str | None,
    from_: str | None,
    format_: str,
    output: str,
    since: str | None,
    options: tuple[str, ...],
    apps: tuple[str, ...],
    embed_files: bool,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Export flags to CSV, JSONL or Parquet (streamed in batches).

    From the config's journal, or --from a database, where the filters run in SQL.
    """
    from flagpipe.data.export import export_flags
    from flagpipe.data.export_target import check_export_target, sink_files
    from flagpipe.data.records import parse_since

    parse_since(since)  # a bad time is an error before anything is read
    protected: list[Path] = []  # a source read --from has no sink files
    if from_ is None:
        loaded = _load(ctx, config)
        protected = sink_files(loaded)
        check_export_target(Path(output), loaded.directory, protected)  # before the journal is opened
    with journal_or_source(ctx, config, from_) as source:
        total = source.count()
        show = progress if progress is not None else total >= PROGRESS_THRESHOLD and not as_json
        with _progress_bar(show) as bar:
            report = export_flags(
                source,
                output,
                format_,  # type: ignore[arg-type]  # click.Choice checked it
                since=since,
                options=list(options) or None,
                apps=list(apps) or None,
                embed_files=embed_files,
                progress=_RichProgress(bar),
                protected=protected,
            )
    if as_json:
        print_json({"path": str(report.path), "format": report.format, "count": report.count})
    else:
        print_line(f"exported {report.count:,} flags to {report.path} ({report.format})")


@config_command(name="import-gradio")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
def import_gradio_command(ctx: click.Context, source: Path, config: str | None, as_json: bool) -> None:
    """Import a Gradio flagging folder (log.csv, dataset<N>.csv and their files); importing twice adds nothing."""
    from flagpipe.data.gradio_import import import_gradio

    loaded = _load(ctx, config)
    with _progress_bar(not as_json) as bar:
        task = bar.add_task("importing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = import_gradio(source, loaded, progress=advance)
    from rich.text import Text

    if as_json:
        print_json(
            {
                "files": [str(p) for p in report.files],
                "imported": report.imported,
                "skipped": report.skipped,
                "warnings": report.warnings,
                "pending": list(report.pending),
            }
        )
        return
    names = ", ".join(p.name for p in report.files)
    print_line(f"read {names}: imported {report.imported:,} flags, skipped {report.skipped:,} already there")
    for warning in report.warnings[:20]:
        print_line(Text.assemble("  ", ("warning:", "yellow"), " "), warning)
    if len(report.warnings) > 20:
        print_line(f"  ... and {len(report.warnings) - 20} more warnings")
    for name in report.pending:
        print_line(f"  pending for {name}: run `flagpipe drain` or start the app to deliver")


@config_command(
    FROM_OPTION,
    click.option("--latest", "-n", "latest", default=5, show_default=True, type=click.IntRange(min=0)),
)
def stats(ctx: click.Context, config: str | None, from_: str | None, latest: int, as_json: bool) -> None:
    """Flags by option, by day (UTC), by user, the latest few, and chat reactions.

    With --from, counted in the database (GROUP BY), not by reading every flag. When the newest flag
    is a chat reaction, the chat section (reactions per day, per app, the most-disliked replies) is
    counted by reading the flags.
    """
    from flagpipe.core.reactions import reaction_of
    from flagpipe.data.chat import chat_stats

    latest = min(latest, MAX_ROWS)  # a huge number shows every flag
    with journal_or_source(ctx, config, from_) as source:
        counts = source.stats()
        probe = source.latest(max(latest, 1)) if counts["total"] else []
        newest = probe if latest else []
        chat = chat_stats(source.events()) if probe and reaction_of(probe[-1]) is not None else None
        where = source.description
    if as_json:
        extra = {"chat": chat} if chat is not None else {}
        print_json({**counts, **extra, "latest": [e.model_dump(mode="json") for e in reversed(newest)]})
        return
    _print_stats(counts, newest, where=where)
    if chat is not None and chat["total"]:
        print_chat_stats(chat)


def _print_stats(counts: dict[str, Any], newest: list[FlagEvent], *, where: str) -> None:
    from rich.text import Text

    console = _console()
    total = int(counts["total"])
    print_line(f"{total:,} flags in {where}")
    if not total:
        return

    def share(count: int) -> str:
        return f"{100 * count / total:.1f}%"

    def named(value: str | None, missing: str) -> str | Text:
        return value if value is not None else Text(missing, style="dim")

    flags, share_column = Column("flags", "number"), Column("share", "number")
    console.print()
    rows = [[named(r["option"], "(none)"), f"{r['count']:,}", share(r["count"])] for r in counts["by_option"]]
    print_table((Column("option"), flags, share_column), rows, title="by option")
    console.print()
    rows = [[r["day"], f"{r['count']:,}"] for r in counts["by_day"]]
    print_table((Column("day (UTC)"), flags), rows, title="by day")
    console.print()
    rows = [[named(r["username"], "(anonymous)"), f"{r['count']:,}", share(r["count"])] for r in counts["by_user"]]
    print_table((Column("username"), flags, share_column), rows, title="by user")
    redacted = counts.get("redacted")
    if redacted:
        console.print()
        rows = [[r["detector"], f"{r['spans']:,}", f"{r['flags']:,}"] for r in redacted["by_detector"]]
        title = f"redacted: {redacted['flags']:,} of {total:,} flags"
        print_table((Column("detector"), Column("spans", "number"), flags), rows, title=title)
    if newest:
        console.print()
        print_table(EVENT_COLUMNS, [event_cells(event) for event in reversed(newest)], title=f"latest {len(newest)}")
