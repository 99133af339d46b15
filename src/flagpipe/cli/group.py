"""The ``flagpipe`` command group: built-in commands, plus plugins' commands looked up per invocation.

Listing commands (``flagpipe --help``) reads plugins' command names and help from a cache
(:mod:`flagpipe.cli.command_cache`), so no plugin is imported; plugins are imported when one of
their commands runs, or when the cache misses.
"""

from __future__ import annotations

from typing import Any

import click

from flagpipe._version import __version__
from flagpipe.cli import command_cache
from flagpipe.cli.command_cache import CommandEntry
from flagpipe.cli.common import _console, _plugins, _text

_COMMANDS = "flagpipe.plugin_commands"
_INDEX = "flagpipe.plugin_index"
_POLICY_PARAMS = ("no_plugin_autoload", "plugin", "block_plugin", "require_plugin", "strict_plugins")


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit < 3:
        return "..."
    import textwrap

    return textwrap.shorten(text, limit, placeholder="...", break_on_hyphens=False)


class FlagpipeGroup(click.Group):
    """The ``flagpipe`` group: built-in commands, plus plugins' commands looked up when needed."""

    def _cache_key(self, ctx: click.Context) -> list[Any]:
        params = ctx.find_root().params
        policy = {name: list(v) if isinstance(v, tuple) else v for name in _POLICY_PARAMS if (v := params.get(name))}
        return command_cache.cache_key(policy)

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        """Plugins' commands for this invocation only (the group itself never changes); imports plugins."""
        cached: dict[str, click.Command] | None = ctx.meta.get(_COMMANDS)
        if cached is not None:
            return cached
        from flagpipe.cli.staging import add_plugin_commands

        listed_from_cache = _INDEX in ctx.meta
        scratch = click.Group(name=self.name, commands=dict(self.commands))  # built-in names stay taken
        try:
            owners = add_plugin_commands(_plugins(ctx), scratch)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the built-in commands
            _console(stderr=True).print(f"warning: plugin commands unavailable: {_text(exc)}")
            owners = None
        cached = {name: command for name, command in scratch.commands.items() if name not in self.commands}
        ctx.meta[_COMMANDS] = cached
        index = [
            CommandEntry(
                name, (owners or {}).get(name, ""), cmd.get_short_help_str(10_000), cmd.hidden, not cmd.short_help
            )
            for name, cmd in cached.items()
        ]
        ctx.meta[_INDEX] = {entry.name: entry for entry in index}
        if owners is not None and not listed_from_cache:
            command_cache.save(self._cache_key(ctx), index, command_cache.cache_dir())
        return cached

    def _plugin_index(self, ctx: click.Context) -> dict[str, CommandEntry]:
        """Plugins' command names and help: from the cache when it is valid, else by importing plugins."""
        index: dict[str, CommandEntry] | None = ctx.meta.get(_INDEX)
        if index is None:
            entries = command_cache.load(self._cache_key(ctx), command_cache.cache_dir())
            if entries is None:
                self._plugin_commands(ctx)
                return dict(ctx.meta[_INDEX])
            index = ctx.meta[_INDEX] = {entry.name: entry for entry in entries}
        return index

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a built-in command, or a plugin's (importing plugins only when one provides it)."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self._plugin_index(ctx):
            command = self._plugin_commands(ctx).get(cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List built-in and plugin commands (for ``--help``)."""
        return sorted({*super().list_commands(ctx), *self._plugin_index(ctx)})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the commands section of ``--help``; plugins' rows come from the index, not an import."""
        index = self._plugin_index(ctx)
        rows: list[tuple[str, Any]] = []
        for name in self.list_commands(ctx):
            builtin = super().get_command(ctx, name)
            if builtin is not None:
                if not builtin.hidden:
                    rows.append((name, builtin.get_short_help_str))
            elif not index[name].hidden:
                entry = index[name]
                rows.append((name, lambda limit, e=entry: _shorten(e.help, limit) if e.shorten else e.help))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, short_help(limit)) for name, short_help in rows])


@click.group(cls=FlagpipeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flagpipe")
# The policy options are eager, so `flagpipe --block-plugin X --help` applies them before listing commands.
@click.option(
    "--no-plugin-autoload",
    is_flag=True,
    is_eager=True,
    help="Load no third-party plugin unless named by --plugin.",
)
@click.option("--plugin", multiple=True, is_eager=True, metavar="NAME", help="Load only this plugin (repeatable).")
@click.option(
    "--block-plugin", multiple=True, is_eager=True, metavar="NAME", help="Never import this plugin (repeatable)."
)
@click.option(
    "--require-plugin",
    multiple=True,
    is_eager=True,
    metavar="SPEC",
    help="Fail unless this plugin loads, e.g. 'x>=1'.",
)
@click.option("--strict-plugins", is_flag=True, is_eager=True, help="A plugin that fails to load is an error.")
def cli(**_: Any) -> None:
    """flagpipe: capture flagged model samples and deliver them to every configured sink."""
    from flagpipe.cli.log_output import show_warnings

    show_warnings()
