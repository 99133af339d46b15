"""Plugins' commands: each plugin adds to a staging group, and clashes are refused before they land."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flagpipe.core.host import PluginHost

log = logging.getLogger("flagpipe.plugins")


class StagingGroup:
    """Collects the commands one plugin adds, so clashes can be refused before they land."""

    def __init__(self, cli: click.Group) -> None:
        self._cli = cli
        self.added: dict[str, click.Command] = {}

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Stage a command (same signature as :meth:`click.Group.add_command`)."""
        self.added[name or cmd.name or ""] = cmd

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Stage a command defined with ``@cli.command`` or ``@cli.command(...)``."""
        return self._stage(click.command, args, kwargs)

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """Stage a group defined with ``@cli.group`` or ``@cli.group(...)`` (not the real group's, to check clashes)."""
        return self._stage(click.group, args, kwargs)

    def _stage(self, make: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used bare: ``@cli.command``
            bare: click.Command = make(args[0])
            self.add_command(bare)
            return bare

        def decorator(function: Any) -> click.Command:
            cmd: click.Command = make(*args, **kwargs)(function)
            self.add_command(cmd)
            return cmd

        return decorator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cli, name)


def add_plugin_commands(plugins: PluginHost, cli: click.Group) -> dict[str, str]:
    """Add every plugin's commands to ``cli``; return each added command's plugin name.

    A command whose name is taken (built in, or added by a plugin called earlier) is refused with a
    warning naming the plugin; a plugin whose hook raises adds nothing and is logged.
    """
    owners: dict[str, str] = {}
    for plugin_name, staging in plugins.register_commands_each(lambda _: StagingGroup(cli)):
        for name, command in staging.added.items():
            if name in cli.commands:
                log.warning("flagpipe plugin %s: command %r is already taken; ignored", plugin_name, name)
            else:
                cli.add_command(command, name)
                owners[name] = plugin_name
    return owners


__all__ = ["StagingGroup", "add_plugin_commands"]
