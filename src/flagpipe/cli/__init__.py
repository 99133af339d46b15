"""The ``flagpipe`` command line. Plugins add commands through ``flagpipe_register_commands``."""

from __future__ import annotations

from flagpipe.cli import data_commands, delivery_commands, flag_commands, plugin_commands, setup_commands
from flagpipe.cli.group import cli

__all__ = ["cli", "main"]

#: The modules whose commands are registered on :data:`cli` when this package is imported.
COMMAND_MODULES = (setup_commands, flag_commands, delivery_commands, plugin_commands, data_commands)


def main() -> None:
    """Run the ``flagpipe`` command line."""
    cli(prog_name="flagpipe")
