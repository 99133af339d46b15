"""The ``flagpipe`` command line: init, check, plugins, schema, flag, show, and plugins' commands."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from flagpipe._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.core.journal import Journal
    from flagpipe.core.plugin_manager import Plugins
    from flagpipe.core.policy import PolicyLayer

F = TypeVar("F", bound="Callable[..., Any]")

_BUILTIN_COMMANDS = ("init", "check", "plugins", "schema", "flag", "show", "status", "retry", "drain", "purge")


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _text(value: object) -> str:
    """Escape text from configs, plugins and flags so rich prints it as is, never as markup."""
    from rich.markup import escape

    return escape(str(value))


def _fail(message: str, code: int = 1) -> None:
    _console(stderr=True).print(f"[bold red]error:[/] {_text(message)}", markup=True)
    raise SystemExit(code)


def _handles_errors(function: F) -> F:
    """Turn flagpipe's errors into a clear message and exit status 1, without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flagpipe.config.errors import ConfigError
        from flagpipe.core.journal import JournalError
        from flagpipe.core.plugin_manager import PluginError

        try:
            return function(*args, **kwargs)
        except ConfigError as exc:
            _fail("invalid config:\n" + "\n".join(f"  {p}" for p in exc.problems))
        except (PluginError, JournalError, ValueError, TypeError, OSError) as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _cli_policy(ctx: click.Context) -> PolicyLayer:
    from flagpipe.core.policy import PolicyLayer

    root = ctx.find_root()
    params = root.params
    allow = params.get("plugin") or ()
    return PolicyLayer(
        autoload=False if params.get("no_plugin_autoload") else None,
        allow=tuple(allow) if allow else None,
        block=tuple(params.get("block_plugin") or ()),
        require=tuple(params.get("require_plugin") or ()),
        strict=True if params.get("strict_plugins") else None,
    )


def _plugins(ctx: click.Context) -> Plugins:
    from flagpipe.core.plugin_manager import create_plugin_manager
    from flagpipe.core.policy import PolicyLayer, resolve_policy

    root = ctx.find_root()
    cached = root.meta.get("flagpipe.plugins")
    if cached is None:
        cached = create_plugin_manager(resolve_policy(PolicyLayer.from_env(), _cli_policy(ctx)))
        root.meta["flagpipe.plugins"] = cached
    return cached


def _find_config(config: str | None) -> str | None:
    from flagpipe.config.model import DEFAULT_CONFIG_NAME, ENV_CONFIG

    if config:
        return config
    if os.environ.get(ENV_CONFIG):
        return os.environ[ENV_CONFIG]
    return DEFAULT_CONFIG_NAME if Path(DEFAULT_CONFIG_NAME).exists() else None


def _load(ctx: click.Context, config: str | None) -> LoadedConfig:
    from flagpipe.config.loader import load_config

    return load_config(_find_config(config), cli_policy=_cli_policy(ctx))


class FlagpipeGroup(click.Group):
    """The ``flagpipe`` group: built-in commands, plus plugins' commands looked up when needed."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        """Plugins' commands for this invocation only (the group itself never changes)."""
        cached: dict[str, click.Command] | None = ctx.meta.get("flagpipe.plugin_commands")
        if cached is not None:
            return cached
        scratch = click.Group(name=self.name, commands=dict(self.commands))  # built-in names stay taken
        try:
            _plugins(ctx).register_commands(scratch)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the built-in commands
            _console(stderr=True).print(f"warning: plugin commands unavailable: {_text(exc)}")
        cached = {name: command for name, command in scratch.commands.items() if name not in self.commands}
        ctx.meta["flagpipe.plugin_commands"] = cached
        return cached

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a built-in command, or load plugins and look among their commands."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name not in _BUILTIN_COMMANDS:
            command = self._plugin_commands(ctx).get(cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List built-in and plugin commands (for ``--help``)."""
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})


@click.group(cls=FlagpipeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flagpipe")
@click.option("--no-plugin-autoload", is_flag=True, help="Load no third-party plugin unless named by --plugin.")
@click.option("--plugin", multiple=True, metavar="NAME", help="Load only this plugin (repeatable).")
@click.option("--block-plugin", multiple=True, metavar="NAME", help="Never import this plugin (repeatable).")
@click.option("--require-plugin", multiple=True, metavar="SPEC", help="Fail unless this plugin loads, e.g. 'x>=1'.")
@click.option("--strict-plugins", is_flag=True, help="A plugin that fails to load is an error.")
def cli(**_: Any) -> None:
    """flagpipe: capture flagged model samples and deliver them to every configured sink."""


@cli.command()
@click.argument("path", default="flagging.yaml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter flagging.yaml."""
    from flagpipe.config.starter import STARTER_CONFIG

    target = Path(path)
    if target.exists() and not force:
        _fail(f"{path} exists; use --force to overwrite it")
    target.write_text(STARTER_CONFIG, encoding="utf-8")
    _console().print(f"wrote {path}; check it with: flagpipe check {path}")


@cli.command()
@click.argument("config", required=False)
@click.option("--config", "-c", "config_option", metavar="CONFIG", help="The flagging.yaml to use (or as argument).")
@click.option("--no-health", is_flag=True, help="Skip the callbacks' health checks.")
@click.pass_context
@_handles_errors
def check(ctx: click.Context, config: str | None, config_option: str | None, no_health: bool) -> None:
    """Validate CONFIG, load its plugins and check that each callback is usable."""
    config = config or config_option
    from rich.table import Table

    loaded = _load(ctx, config)
    problems = 0
    table = Table("callback", "type", "provided by", "health")
    for entry in loaded.chain:
        health = "skipped"
        if not no_health:
            try:
                callback = entry.callback_type.cls(entry.settings)
                try:
                    health = "ok" + (f": {message}" if (message := callback.healthcheck()) else "")
                finally:
                    callback.close()
            except Exception as exc:  # noqa: BLE001 - report every callback's problem, then exit non-zero
                health = f"[red]failed: {_text(exc)}[/]"
                problems += 1
        table.add_row(_text(entry.name), _text(entry.type_name), _text(entry.callback_type.plugin.provider), health)
    console = _console()
    console.print(_text(f"{loaded.source}: valid; mode {loaded.config.mode}, dir {loaded.directory}"))
    console.print(table)
    for record in loaded.plugins.failed:
        console.print(f"[yellow]warning:[/] plugin {_text(record.provider)} failed to load: {_text(record.error)}")
    if problems:
        raise SystemExit(1)


@cli.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@_handles_errors
def plugins_command(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List plugins: distribution, version, hooks, callback types and status."""
    from dataclasses import asdict

    from rich.table import Table

    plugins = _plugins(ctx)
    records = [r for r in plugins.records if show_all or not r.builtin]
    if as_json:
        click.echo(json.dumps([asdict(r) for r in records], indent=2))
        return
    table = Table("plugin", "distribution", "version", "status", "callback types", "hooks")
    for record in records:
        status = record.status if record.error is None else f"{record.status}: {record.error}"
        style = {"loaded": "green", "failed": "red"}.get(record.status, "yellow")
        table.add_row(
            _text(record.name),
            _text(record.distribution or ""),
            _text(record.version or ""),
            f"[{style}]{_text(status)}[/]",
            _text(", ".join(record.callback_types)),
            _text(", ".join(h.removeprefix("flagpipe_") for h in record.hooks)),
        )
    console = _console()
    console.print(table)
    if not show_all:
        console.print(f"({sum(r.builtin for r in plugins.records)} built-in plugins hidden; --all shows them)")
    for conflict in plugins.conflicts:
        console.print(f"[red]conflict:[/] {_text(conflict)}")


@cli.command()
@click.pass_context
@_handles_errors
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of flagging.yaml, with installed plugins' callback settings."""
    from flagpipe.config.json_schema import config_json_schema

    click.echo(json.dumps(config_json_schema(_plugins(ctx)), indent=2))


def _pairs(items: tuple[str, ...], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=flag)
        pairs[name] = value
    return pairs


def _parse_cli_value(text: str) -> Any:
    """A number when the text is a JSON number, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else text


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
    from flagpipe.core.flagger import Flagger

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


def _inline(loaded: LoadedConfig) -> LoadedConfig:
    """The same config with inline delivery: a one-shot command says where a flag went before it exits."""
    import dataclasses

    delivery = loaded.config.delivery.model_copy(update={"mode": "inline"})
    return dataclasses.replace(loaded, config=loaded.config.model_copy(update={"delivery": delivery}))


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
        shown = ", ".join(
            f"{f.name}={f.file.path if f.file else json.dumps(f.value, ensure_ascii=False)}" for f in event.fields
        )
        table.add_row(
            event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            _text(event.option or ""),
            _text(event.username or ""),
            _text(shown),
            event.id,
        )
    _console().print(table)


_CONFIG_OPTION = click.option("--config", "-c", "config", metavar="CONFIG", help="The flagging.yaml to use.")


def _open_journal(loaded: LoadedConfig) -> Journal:
    from flagpipe.core.journal import JOURNAL_PATH, Journal

    if not (loaded.directory / JOURNAL_PATH).exists():
        _fail(f"no flags yet: {loaded.directory / JOURNAL_PATH} does not exist")
    journal = Journal(loaded.directory, durability=loaded.config.delivery.durability)
    journal.ensure_lanes([entry.name for entry in loaded.chain])
    return journal


def _age(iso: str | None) -> str:
    if iso is None:
        return ""
    from datetime import datetime, timezone

    seconds = (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


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

    from flagpipe.core.flagger import Flagger

    loaded = _inline(_load(ctx, config))
    with Flagger(loaded) as flagger:
        journal = flagger.journal
        assert journal is not None

        def remaining() -> int:
            return sum(s.pending for s in journal.status())

        total = remaining()
        with Progress(console=_console()) as progress:
            task = progress.add_task("delivering", total=total or 1)
            for _ in flagger.drain_steps():
                progress.update(task, completed=total - remaining())
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
@click.pass_context
@_handles_errors
def purge(ctx: click.Context, config: str | None, older_than: str, dry_run: bool) -> None:
    """Remove old events that every callback has handled (and files no other event uses)."""
    from flagpipe.core.retention import parse_age
    from flagpipe.core.retention import purge as purge_journal

    age = parse_age(older_than)
    loaded = _load(ctx, config)
    journal = _open_journal(loaded)
    try:
        names = [entry.name for entry in loaded.chain]
        report = purge_journal(journal, loaded.directory, older_than=age, lanes=names, dry_run=dry_run)
    finally:
        journal.close()
    verb = "would remove" if dry_run else "removed"
    _console().print(f"{verb} {report.events:,} event(s) and {len(report.files):,} file(s) older than {older_than}")


def main() -> None:
    """Run the ``flagpipe`` command line."""
    cli(prog_name="flagpipe")


if __name__ == "__main__":  # pragma: no cover
    main()
