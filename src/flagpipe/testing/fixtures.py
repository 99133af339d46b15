"""The test kit's fixtures: a fresh plugin host, plugins registered for one test, Flaggers for one callback."""

from __future__ import annotations

import contextlib
import os
import typing
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe.core.callback import Callback
from flagpipe.core.hookspecs import hookimpl
from flagpipe.core.host import PluginHost, create_plugin_host
from flagpipe.core.policy import PluginPolicy
from flagpipe.flagger import Flagger

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from flagpipe.core.schema import FieldSpec

#: A function that registers a plugin for the rest of the test and returns its name.
PluginRegistrar = typing.Callable[..., str]
#: A function that builds a Flagger wired to one callback class.
FlaggerFactory = typing.Callable[..., Flagger]


def new_plugin_manager() -> PluginHost:
    """Return a fresh plugin manager with flagpipe's built-ins only: no installed plugin is loaded."""
    return create_plugin_host(PluginPolicy(autoload=False))


class CallbackPlugin:
    """A plugin object that registers the given callback classes (what a plugin module does)."""

    def __init__(self, *classes: type[Callback[Any]]) -> None:
        self.classes = classes

    @hookimpl
    def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
        """Register the callback classes."""
        return list(self.classes)

    def __repr__(self) -> str:
        return f"CallbackPlugin({', '.join(c.__name__ for c in self.classes)})"


def _clean_env() -> dict[str, str]:
    """The environment without ``FLAGPIPE_*`` variables, so a test is not steered from outside."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}


def build_flagger(
    plugins: PluginHost,
    stack: contextlib.ExitStack,
    directory: Path,
    callback_class: type[Callback[Any]],
    settings: Mapping[str, Any] | None,
    *,
    name: str | None,
    fields: Sequence[FieldSpec] | None,
    config: Mapping[str, Any],
) -> Flagger:
    """Build a Flagger delivering inline to one ``callback_class``, registered for ``stack`` if needed."""
    known = plugins.callback_types().get(callback_class.type_name)
    if known is None:
        plugin_name = f"flagpipe.testing:{callback_class.__module__}.{callback_class.__qualname__}"
        stack.enter_context(plugins.registered(CallbackPlugin(callback_class), plugin_name))
    elif known.cls is not callback_class:
        raise ValueError(
            f"callback type {callback_class.type_name!r} is already provided by {known.plugin.provider} "
            f"({known.cls.__module__}.{known.cls.__qualname__})"
        )
    item: dict[str, Any] = {"type": callback_class.type_name, **dict(settings or {})}
    if name is not None:
        item["name"] = name
    data: dict[str, Any] = {"dir": str(directory), **config}
    data["delivery"] = {"mode": "inline", **dict(config.get("delivery", {}))}
    data["callbacks"] = [item]
    flagger = Flagger(data, plugins=plugins, env=_clean_env(), fields=fields)
    stack.callback(flagger.close)
    return flagger


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def flagging_dir(tmp_path: Path) -> Path:
    """An empty flagging directory, ``tmp_path / "flagged"``."""
    directory = tmp_path / "flagged"
    directory.mkdir()
    return directory


@pytest.fixture
def flagpipe_plugins() -> PluginHost:
    """A fresh plugin manager with the built-ins only; installed plugins are not loaded."""
    return new_plugin_manager()


@pytest.fixture
def register_plugin(flagpipe_plugins: PluginHost) -> Iterator[PluginRegistrar]:
    """Return ``register(plugin, name=None) -> str``: register on ``flagpipe_plugins`` for this test.

    Each plugin is unregistered when the test ends, whatever happened, and checked to be gone.
    """
    with contextlib.ExitStack() as stack:

        def register(plugin: object, name: str | None = None) -> str:
            return stack.enter_context(flagpipe_plugins.registered(plugin, name))

        yield register


@pytest.fixture
def make_flagger(flagpipe_plugins: PluginHost, flagging_dir: Path) -> Iterator[FlaggerFactory]:
    """Return ``make(callback_class, settings=None, *, name=None, fields=None, **config) -> Flagger``.

    The Flagger flags into ``flagging_dir`` (unless ``config`` has a ``dir``), delivers inline, and has
    one callback of ``callback_class`` (registered for this test unless a built-in already provides
    it) with ``settings``. Other keyword arguments are config keys (``options``, ``mode``, ...).
    """
    with contextlib.ExitStack() as stack:

        def make(
            callback_class: type[Callback[Any]],
            settings: Mapping[str, Any] | None = None,
            *,
            name: str | None = None,
            fields: Sequence[FieldSpec] | None = None,
            **config: Any,
        ) -> Flagger:
            return build_flagger(
                flagpipe_plugins,
                stack,
                flagging_dir,
                callback_class,
                settings,
                name=name,
                fields=fields,
                config=config,
            )

        yield make


__all__ = [
    "CallbackPlugin",
    "FlaggerFactory",
    "PluginRegistrar",
    "build_flagger",
    "flagging_dir",
    "flagpipe_plugins",
    "make_flagger",
    "new_plugin_manager",
    "register_plugin",
]
