"""Commands to start and check a setup: init, check, plugins, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flagpipe.cli.common import (
    _console,
    _fail,
    _handles_errors,
    _load,
    _plugins,
    _text,
)
from flagpipe.cli.group import cli

if TYPE_CHECKING:
    pass


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
