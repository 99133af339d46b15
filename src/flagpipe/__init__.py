"""flagpipe: capture the samples where a model misbehaves and deliver every flag to every sink.

The public API. Names are imported on first use, so ``import flagpipe`` stays fast; plugin authors
need only ``from flagpipe import hookimpl`` (and ``Callback``, ``CallbackSettings`` for a sink).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flagpipe._version import __version__

if TYPE_CHECKING:
    from flagpipe.config.errors import ConfigError, ConfigProblem
    from flagpipe.config.loader import LoadedConfig, load_config
    from flagpipe.config.model import FlagpipeConfig
    from flagpipe.core.callback import (
        Callback,
        CallbackSettings,
        DeliveryError,
        PermanentError,
        RetryableError,
    )
    from flagpipe.core.event import SCHEMA_VERSION, FieldValue, FileRef, FlagEvent
    from flagpipe.core.flagger import Flagger, FlagReceipt
    from flagpipe.core.hookspecs import PROJECT_NAME, hookimpl, hookspec
    from flagpipe.core.kinds import EncodedFile, ValueKind
    from flagpipe.core.plugin_manager import PluginError, Plugins, create_plugin_manager
    from flagpipe.core.policy import PluginPolicy, PolicyLayer
    from flagpipe.core.schema import Field, FlagSchema

_EXPORTS = {
    "Callback": "flagpipe.core.callback",
    "CallbackSettings": "flagpipe.core.callback",
    "DeliveryError": "flagpipe.core.callback",
    "PermanentError": "flagpipe.core.callback",
    "RetryableError": "flagpipe.core.callback",
    "ConfigError": "flagpipe.config.errors",
    "ConfigProblem": "flagpipe.config.errors",
    "EncodedFile": "flagpipe.core.kinds",
    "Field": "flagpipe.core.schema",
    "FieldValue": "flagpipe.core.event",
    "FileRef": "flagpipe.core.event",
    "FlagEvent": "flagpipe.core.event",
    "FlagReceipt": "flagpipe.core.flagger",
    "FlagSchema": "flagpipe.core.schema",
    "Flagger": "flagpipe.core.flagger",
    "FlagpipeConfig": "flagpipe.config.model",
    "LoadedConfig": "flagpipe.config.loader",
    "PROJECT_NAME": "flagpipe.core.hookspecs",
    "PluginError": "flagpipe.core.plugin_manager",
    "PluginPolicy": "flagpipe.core.policy",
    "Plugins": "flagpipe.core.plugin_manager",
    "PolicyLayer": "flagpipe.core.policy",
    "SCHEMA_VERSION": "flagpipe.core.event",
    "ValueKind": "flagpipe.core.kinds",
    "create_plugin_manager": "flagpipe.core.plugin_manager",
    "hookimpl": "flagpipe.core.hookspecs",
    "hookspec": "flagpipe.core.hookspecs",
    "load_config": "flagpipe.config.loader",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flagpipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
