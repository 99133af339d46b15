"""Helpers shared by the ``flagpipe`` commands: output, errors, plugin policy and config loading."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.core.host import PluginHost
    from flagpipe.core.journal import Journal
    from flagpipe.core.policy import PolicyLayer

F = TypeVar("F", bound="Callable[..., Any]")


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _escaped(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: Characters that could command a terminal or reorder what it shows, each as a visible stand-in:
#: C0 controls and DEL as Unicode control pictures (ESC as ``␛``), C1 controls (``\x9b`` is a CSI),
#: bidirectional overrides and line separators as escapes (``\u202e``).
VISIBLE: dict[int, str] = {
    **{c: chr(0x2400 + c) for c in range(32)},
    0x7F: "\u2421",
    **{c: _escaped(c) for c in range(0x80, 0xA0)},
    **{c: _escaped(c) for c in (0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
#: The same, leaving newlines and tabs alone (for messages of several lines).
VISIBLE_KEEP_LINES = {c: v for c, v in VISIBLE.items() if c not in (9, 10)}


def visible(value: object, *, keep_lines: bool = False) -> str:
    """``value`` as text with every terminal control character shown as a harmless visible symbol."""
    return str(value).translate(VISIBLE_KEEP_LINES if keep_lines else VISIBLE)


def _text(value: object) -> str:
    """Escape text from configs, plugins and flags so rich prints it as is: no markup, no control codes."""
    from rich.markup import escape

    return escape(visible(value, keep_lines=True))


def _fail(message: str, code: int = 1) -> None:
    from flagpipe.core.secrets import mask_userinfo

    _console(stderr=True).print(f"[bold red]error:[/] {_text(mask_userinfo(message))}", markup=True)
    raise SystemExit(code)


def _handles_errors(function: F) -> F:
    """Turn flagpipe's errors into a clear message and exit status 1, without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flagpipe.config.errors import ConfigError
        from flagpipe.core.host import PluginError
        from flagpipe.core.journal import JournalError

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


def _plugins(ctx: click.Context) -> PluginHost:
    from flagpipe.core.host import create_plugin_host
    from flagpipe.core.policy import PolicyLayer, resolve_policy

    root = ctx.find_root()
    cached = root.meta.get("flagpipe.plugins")
    if cached is None:
        cached = create_plugin_host(resolve_policy(PolicyLayer.from_env(), _cli_policy(ctx)))
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


def _inline(loaded: LoadedConfig) -> LoadedConfig:
    """The same config with inline delivery: a one-shot command says where a flag went before it exits."""
    import dataclasses

    delivery = loaded.config.delivery.model_copy(update={"mode": "inline"})
    return dataclasses.replace(loaded, config=loaded.config.model_copy(update={"delivery": delivery}))


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
