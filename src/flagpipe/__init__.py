"""flagpipe: capture the samples where a model misbehaves and deliver every flag to every sink.

The public API. Names are imported on first use, so ``import flagpipe`` stays fast; plugin authors
need only ``from flagpipe import hookimpl`` (and ``Callback``, ``CallbackSettings`` for a sink).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flagpipe._version import __version__ as __version__

if TYPE_CHECKING:
    from flagpipe.config.errors import ConfigError as ConfigError
    from flagpipe.config.errors import ConfigProblem as ConfigProblem
    from flagpipe.config.loader import LoadedConfig as LoadedConfig
    from flagpipe.config.loader import load_config as load_config
    from flagpipe.config.model import FlagpipeConfig as FlagpipeConfig
    from flagpipe.core.callback import (
        Callback as Callback,
    )
    from flagpipe.core.callback import (
        CallbackSettings as CallbackSettings,
    )
    from flagpipe.core.callback import (
        DeliveryError as DeliveryError,
    )
    from flagpipe.core.callback import (
        DestinationDisabledError as DestinationDisabledError,
    )
    from flagpipe.core.callback import (
        PermanentError as PermanentError,
    )
    from flagpipe.core.callback import (
        RetryableError as RetryableError,
    )
    from flagpipe.core.event import SCHEMA_VERSION as SCHEMA_VERSION
    from flagpipe.core.event import FieldValue as FieldValue
    from flagpipe.core.event import FileRef as FileRef
    from flagpipe.core.event import FlagEvent as FlagEvent
    from flagpipe.core.flagger import Flagger as Flagger
    from flagpipe.core.flagger import FlagReceipt as FlagReceipt
    from flagpipe.core.hookspecs import PROJECT_NAME as PROJECT_NAME
    from flagpipe.core.hookspecs import hookimpl as hookimpl
    from flagpipe.core.hookspecs import hookspec as hookspec
    from flagpipe.core.kinds import EncodedFile as EncodedFile
    from flagpipe.core.kinds import ValueKind as ValueKind
    from flagpipe.core.plugin_manager import PluginError as PluginError
    from flagpipe.core.plugin_manager import Plugins as Plugins
    from flagpipe.core.plugin_manager import create_plugin_manager as create_plugin_manager
    from flagpipe.core.policy import PluginPolicy as PluginPolicy
    from flagpipe.core.policy import PolicyLayer as PolicyLayer
    from flagpipe.core.schema import Field as Field
    from flagpipe.core.schema import FlagSchema as FlagSchema
    from flagpipe.reading import read_flags as read_flags


_EXPORTS = {
    "Callback": "flagpipe.core.callback",
    "CallbackSettings": "flagpipe.core.callback",
    "DeliveryError": "flagpipe.core.callback",
    "DestinationDisabledError": "flagpipe.core.callback",
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
    "read_flags": "flagpipe.reading",
}

__all__ = [
    "PROJECT_NAME",
    "SCHEMA_VERSION",
    "Callback",
    "CallbackSettings",
    "ConfigError",
    "ConfigProblem",
    "DeliveryError",
    "DestinationDisabledError",
    "EncodedFile",
    "Field",
    "FieldValue",
    "FileRef",
    "FlagEvent",
    "FlagReceipt",
    "FlagSchema",
    "Flagger",
    "FlagpipeConfig",
    "LoadedConfig",
    "PermanentError",
    "PluginError",
    "PluginPolicy",
    "Plugins",
    "PolicyLayer",
    "RetryableError",
    "ValueKind",
    "__version__",
    "create_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_config",
    "read_flags",
]


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
