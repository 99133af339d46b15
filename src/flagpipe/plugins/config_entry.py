"""The settings of one callback of a flagging config, for the commands built-in sinks add.

``flagpipe sql init --config`` and ``flagpipe compact --config`` both take their settings from a
callback of a config; :func:`callback_settings` finds it and explains, as a command-line error,
when there is none or more than one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.callback import CallbackSettings

S = TypeVar("S", bound="CallbackSettings")


def callback_settings(config: str, type_name: str, callback: str | None, settings_type: type[S]) -> tuple[S, Path]:
    """The settings of the ``type_name`` callback of ``config`` (the one named ``callback``), and its flagging dir.

    :raises click.ClickException: when the config is invalid, or has no such callback, or several.
    """
    from flagpipe.config.errors import ConfigError
    from flagpipe.config.loader import load_config

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    entries = [e for e in loaded.chain if e.type_name == type_name and callback in (None, e.name)]
    if not entries:
        which = f"named {callback!r} " if callback else ""
        raise click.ClickException(f"{config} has no {type_name} callback {which}in its callbacks")
    if len(entries) > 1:
        names = ", ".join(e.name for e in entries)
        raise click.ClickException(f"{config} has several {type_name} callbacks ({names}): pick one with --callback")
    settings = entries[0].settings
    assert isinstance(settings, settings_type)
    return settings, loaded.directory


__all__ = ["callback_settings"]
