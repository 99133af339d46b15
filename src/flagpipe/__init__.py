"""flagpipe: capture the samples where a model misbehaves and deliver every flag to every sink.

The public API, in one list (:data:`__all__`). Names are imported on first use, so ``import flagpipe``
stays fast. Plugin authors need ``hookimpl`` (and ``Callback``, ``CallbackSettings`` for a sink);
the plugin machinery itself lives in :mod:`flagpipe.core.host` and :mod:`flagpipe.core.policy`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from flagpipe._version import __version__ as __version__

if TYPE_CHECKING:
    from flagpipe.config.errors import ConfigError as ConfigError
    from flagpipe.config.errors import ConfigProblem as ConfigProblem
    from flagpipe.core.callback import Callback as Callback
    from flagpipe.core.callback import CallbackSettings as CallbackSettings
    from flagpipe.core.callback import DeliveryError as DeliveryError
    from flagpipe.core.callback import DestinationDisabledError as DestinationDisabledError
    from flagpipe.core.callback import PermanentError as PermanentError
    from flagpipe.core.callback import RetryableError as RetryableError
    from flagpipe.core.detectors import Detector as Detector
    from flagpipe.core.event import SCHEMA_VERSION as SCHEMA_VERSION
    from flagpipe.core.event import FieldValue as FieldValue
    from flagpipe.core.event import FileRef as FileRef
    from flagpipe.core.event import FlagEvent as FlagEvent
    from flagpipe.core.hookspecs import hookimpl as hookimpl
    from flagpipe.core.journal_records import FlagNotStoredError as FlagNotStoredError
    from flagpipe.core.journal_records import JournalError as JournalError
    from flagpipe.core.kinds import EncodedFile as EncodedFile
    from flagpipe.core.kinds import ValueKind as ValueKind
    from flagpipe.core.reactions import REACTION_FIELDS as REACTION_FIELDS
    from flagpipe.core.receipt import FlagReceipt as FlagReceipt
    from flagpipe.core.schema import FieldSpec as FieldSpec
    from flagpipe.core.schema import FlagSchema as FlagSchema
    from flagpipe.core.sources import FlagFilter as FlagFilter
    from flagpipe.core.sources import FlagSource as FlagSource
    from flagpipe.data.chat import read_reactions as read_reactions
    from flagpipe.data.read import read_flags as read_flags
    from flagpipe.flagger import Flagger as Flagger

#: Public name to the module that defines it.
_EXPORTS = {
    "Callback": "flagpipe.core.callback",
    "CallbackSettings": "flagpipe.core.callback",
    "ConfigError": "flagpipe.config.errors",
    "ConfigProblem": "flagpipe.config.errors",
    "DeliveryError": "flagpipe.core.callback",
    "DestinationDisabledError": "flagpipe.core.callback",
    "Detector": "flagpipe.core.detectors",
    "EncodedFile": "flagpipe.core.kinds",
    "FieldSpec": "flagpipe.core.schema",
    "FieldValue": "flagpipe.core.event",
    "FileRef": "flagpipe.core.event",
    "FlagEvent": "flagpipe.core.event",
    "FlagReceipt": "flagpipe.core.receipt",
    "FlagFilter": "flagpipe.core.sources",
    "FlagNotStoredError": "flagpipe.core.journal_records",
    "FlagSchema": "flagpipe.core.schema",
    "FlagSource": "flagpipe.core.sources",
    "Flagger": "flagpipe.flagger",
    "PermanentError": "flagpipe.core.callback",
    "RetryableError": "flagpipe.core.callback",
    "SCHEMA_VERSION": "flagpipe.core.event",
    "ValueKind": "flagpipe.core.kinds",
    "JournalError": "flagpipe.core.journal_records",
    "hookimpl": "flagpipe.core.hookspecs",
    "read_flags": "flagpipe.data.read",
    "read_reactions": "flagpipe.data.chat",
    "REACTION_FIELDS": "flagpipe.core.reactions",
}

#: Names that left the top-level namespace, with where they live now.
_MOVED = {
    "PROJECT_NAME": "flagpipe.core.hookspecs",
    "hookspec": "flagpipe.core.hookspecs",
    "FlagpipeConfig": "flagpipe.config.model",
    "LoadedConfig": "flagpipe.config.loader",
    "load_config": "flagpipe.config.loader",
    "PluginError": "flagpipe.core.host",
    "PluginHost": "flagpipe.core.host",
    "create_plugin_host": "flagpipe.core.host",
    "PluginPolicy": "flagpipe.core.policy",
    "PolicyLayer": "flagpipe.core.policy",
}

__all__ = [
    "REACTION_FIELDS",
    "SCHEMA_VERSION",
    "Callback",
    "CallbackSettings",
    "ConfigError",
    "ConfigProblem",
    "DeliveryError",
    "DestinationDisabledError",
    "Detector",
    "EncodedFile",
    "FieldSpec",
    "FieldValue",
    "FileRef",
    "FlagEvent",
    "FlagFilter",
    "FlagNotStoredError",
    "FlagReceipt",
    "FlagSchema",
    "FlagSource",
    "Flagger",
    "JournalError",
    "PermanentError",
    "RetryableError",
    "ValueKind",
    "__version__",
    "hookimpl",
    "read_flags",
    "read_reactions",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use; ``Field`` is a deprecated alias of ``FieldSpec``."""
    if name == "Field":
        warnings.warn(
            "flagpipe.Field is deprecated (it shadows pydantic.Field); use flagpipe.FieldSpec",
            DeprecationWarning,
            stacklevel=2,
        )
        name = "FieldSpec"
    module = _EXPORTS.get(name)
    if module is None:
        moved = _MOVED.get(name)
        hint = f"; it moved to {moved}.{name}" if moved else ""
        raise AttributeError(f"module 'flagpipe' has no attribute {name!r}{hint}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
