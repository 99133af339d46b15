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
from flagpipe.cli.render import Column, json_option, one_line, print_json, print_line, print_table

if TYPE_CHECKING:
    from rich.text import Text

    from flagpipe.config.loader import ChainEntry

#: The columns of ``flagpipe check``.
CHECK_COLUMNS = (Column("callback"), Column("type"), Column("provided by"), Column("health", "text"))
#: The columns of ``flagpipe plugins``.
PLUGIN_COLUMNS = (
    Column("plugin"),
    Column("distribution"),
    Column("version"),
    Column("status", "text"),
    Column("callback types"),
    Column("hooks", "text"),
)


def _health(entry: ChainEntry, timeout: float | None) -> tuple[bool, str]:
    """Build the callback and run its health check, each call bounded by ``timeout``: (ok, message or error)."""
    from flagpipe.core.guard import CallGuard

    guard = CallGuard(entry.name, timeout)
    try:
        callback = entry.build()
        try:
            message = guard.call("healthcheck()", callback.healthcheck)
        finally:
            guard.call("close()", callback.close)
    except Exception as exc:  # noqa: BLE001 - report every callback's problem, then exit non-zero
        from flagpipe.core.secrets import mask_userinfo

        return False, mask_userinfo(str(exc))
    return True, "ok" + (f": {message}" if message else "")


@cli.command()
@click.argument("path", default="flagging.yaml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter flagging.yaml."""
    from flagpipe.config.starter import STARTER_CONFIG

    target = Path(path)
    if target.exists() and not force:
        _fail(f"{path} exists; use --force to overwrite it")
    if not target.parent.is_dir():
        _fail(f"cannot write {path}: the folder {target.parent} does not exist (create it first)")
    try:
        target.write_text(STARTER_CONFIG, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    _console().print(f"wrote {_text(path)}; check it with: flagpipe check {_text(path)}")


@cli.command()
@click.argument("config", required=False)
@click.option("--config", "-c", "config_option", metavar="CONFIG", help="The flagging.yaml to use (or as argument).")
@click.option("--no-health", is_flag=True, help="Skip the callbacks' health checks.")
@json_option
@click.pass_context
@_handles_errors
def check(ctx: click.Context, config: str | None, config_option: str | None, no_health: bool, as_json: bool) -> None:
    """Validate CONFIG, load its plugins and check that each callback is usable."""
    from rich.text import Text

    loaded = _load(ctx, config or config_option)
    results = []
    for entry in loaded.chain:
        ok, health = (None, "skipped") if no_health else _health(entry, loaded.config.delivery.call_timeout)
        results.append((entry, ok, health))
    from flagpipe.core.dir_probe import directory_problem

    dir_problem = directory_problem(loaded.directory) if loaded.config.mode != "never" else None
    problems = sum(ok is False for _, ok, _ in results) + (dir_problem is not None)
    failed_plugins = [{"plugin": r.provider, "error": r.error} for r in loaded.plugins.failed]
    if as_json:
        callbacks = [
            {"name": e.name, "type": e.type_name, "provided_by": e.callback_type.plugin.provider, "ok": ok, "health": h}
            for e, ok, h in results
        ]
        summary = {
            "config": str(loaded.source),
            "mode": loaded.config.mode,
            "mode_note": loaded.mode_note,
            "dir": str(loaded.directory),
            "dir_problem": dir_problem,
        }
        print_json({**summary, "callbacks": callbacks, "failed_plugins": failed_plugins})
    else:
        if dir_problem is None:
            note = f" ({loaded.mode_note})" if loaded.mode_note else ""
            print_line(f"{loaded.source}: valid; mode {loaded.config.mode}{note}, dir {loaded.directory}")
        else:
            print_line(Text.assemble(("dir unusable:", "red"), f" {loaded.directory}: "), dir_problem)
        rows: list[list[str | Text]] = [
            [e.name, e.type_name, e.callback_type.plugin.provider, Text(f"failed: {h}", "red") if ok is False else h]
            for e, ok, h in results
        ]
        print_table(CHECK_COLUMNS, rows)
        for record in loaded.plugins.failed:
            warning = Text.assemble(("warning:", "yellow"), f" plugin {record.provider} failed to load: ")
            print_line(warning, record.error or "")
    if problems:
        raise SystemExit(1)


@cli.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@json_option
@click.pass_context
@_handles_errors
def plugins_command(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List plugins: distribution, version, hooks, callback types and status."""
    from dataclasses import asdict

    from rich.text import Text

    plugins = _plugins(ctx)
    records = [r for r in plugins.records if show_all or not r.builtin]
    if as_json:
        print_json([asdict(r) for r in records])
        return
    rows: list[list[str | Text]] = []
    for record in records:
        status = record.status if record.error is None else f"{record.status}: {record.error}"
        style = {"loaded": "green", "failed": "red"}.get(record.status, "yellow")
        rows.append(
            [
                record.name,
                record.distribution or "",
                record.version or "",
                Text(one_line(status), style=style),
                ", ".join(record.callback_types),
                ", ".join(h.removeprefix("flagpipe_") for h in record.hooks),
            ]
        )
    print_table(PLUGIN_COLUMNS, rows)
    console = _console()
    if not show_all:
        console.print(f"({sum(r.builtin for r in plugins.records)} built-in plugins hidden; --all shows them)")
    for conflict in plugins.conflicts:
        print_line(Text.assemble(("conflict:", "red"), " "), conflict)


@cli.command()
@click.pass_context
@_handles_errors
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of flagging.yaml, with installed plugins' callback settings."""
    from flagpipe.config.json_schema import config_json_schema

    click.echo(json.dumps(config_json_schema(_plugins(ctx)), indent=2))
