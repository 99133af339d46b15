"""The ``flagpipe`` command group: built-in commands, plus plugins' commands looked up per invocation."""

from __future__ import annotations

from typing import Any

import click

from flagpipe._version import __version__
from flagpipe.cli.common import _console, _plugins, _text


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
        if command is None:
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
