"""One decorator for the commands that read a config: ``--config``, their own options, ``--json``, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flagpipe.cli.common import _CONFIG_OPTION, _handles_errors
from flagpipe.cli.group import cli
from flagpipe.cli.render import json_option

if TYPE_CHECKING:
    from collections.abc import Callable


def config_command(
    *options: Callable[[Callable[..., Any]], Callable[..., Any]], name: str | None = None
) -> Callable[[Callable[..., Any]], click.Command]:
    """Make a ``flagpipe`` command that takes ``--config``, then ``options`` in order, then ``--json``.

    The function receives the click context first, then ``config``, its own options and ``as_json``;
    flagpipe's errors become a one-line message and exit status 1 (see ``_handles_errors``).
    """

    def decorate(function: Callable[..., Any]) -> click.Command:
        wrapped = json_option(click.pass_context(_handles_errors(function)))
        for option in reversed(options):
            wrapped = option(wrapped)
        return cli.command(name)(_CONFIG_OPTION(wrapped))

    return decorate


__all__ = ["config_command"]
