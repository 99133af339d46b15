"""The ``flagpipe`` command line. Plugins add commands through ``flagpipe_register_commands``."""

from __future__ import annotations

# Importing the command modules registers their commands on ``cli``.
from flagpipe.cli import (  # noqa: F401
    data_commands,
    delivery_commands,
    doctor_commands,
    flag_commands,
    plugin_commands,
    redact_commands,
    serve_commands,
    setup_commands,
)
from flagpipe.cli.group import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Run the ``flagpipe`` command line."""
    cli(prog_name="flagpipe")
