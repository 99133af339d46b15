"""The registry of callback types, value kinds and detectors that plugins registered.

Each plugin's registration result is validated here; a name two plugins claim is a conflict whose
message names both providers, and an unknown ``type`` is an error listing the installed ones and
any plugin that failed or was left out by the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flagpipe.core.callback import TYPE_NAME_PATTERN, Callback, CallbackSettings
from flagpipe.core.detectors import Detector
from flagpipe.core.kinds import ValueKind
from flagpipe.core.plugin_errors import PluginConflictError, UnknownCallbackTypeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe.core.records import PluginRecord


@dataclass(frozen=True)
class CallbackType:
    """A registered callback class and the plugin that provided it."""

    type_name: str
    cls: type[Callback[Any]]
    plugin: PluginRecord = field(compare=False)

    @property
    def settings_model(self) -> type[CallbackSettings]:
        """The callback's ``Settings`` model."""
        return self.cls.Settings


def validate_callback_classes(result: object) -> list[type[Callback[Any]]]:
    """Check what a ``flagpipe_register_callbacks`` implementation returned; raise on anything wrong."""
    if result is None:
        return []
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"flagpipe_register_callbacks must return a list of classes, got {result!r}")
    classes: list[type[Callback[Any]]] = []
    for cls in result:
        if not (isinstance(cls, type) and issubclass(cls, Callback)):
            raise TypeError(f"{cls!r} is not a subclass of flagpipe.Callback")
        if not TYPE_NAME_PATTERN.match(cls.type_name or ""):
            raise ValueError(f"{cls.__name__}.type_name {cls.type_name!r} must match {TYPE_NAME_PATTERN.pattern}")
        settings = cls.Settings
        if not (isinstance(settings, type) and issubclass(settings, CallbackSettings)):
            raise TypeError(f"{cls.__name__}.Settings must subclass flagpipe.CallbackSettings")
        if settings.model_config.get("extra") != "forbid":
            raise ValueError(f"{cls.__name__}.Settings must reject unknown keys (extra='forbid')")
        classes.append(cls)
    return classes


def validate_value_kinds(result: object) -> list[ValueKind]:
    """Check what a ``flagpipe_register_value_kinds`` implementation returned; raise on anything wrong."""
    items: list[ValueKind] = list(result or [])  # type: ignore[call-overload]
    for kind in items:
        if not isinstance(kind, ValueKind):
            raise TypeError(f"flagpipe_register_value_kinds must return ValueKind items, got {kind!r}")
    return items


def _clash(what: str, name: str, first: PluginRecord, second: PluginRecord) -> str:
    return f"{what} {name!r} is provided by both {first.provider} and {second.provider}; uninstall or block one of them"


class Registry:
    """Callback types and value kinds gathered from plugins, in hook-call order, with their clashes."""

    def __init__(self) -> None:
        self._types: dict[str, CallbackType] = {}
        self._kinds: dict[str, tuple[ValueKind, PluginRecord]] = {}
        self._detectors: dict[str, tuple[Detector, PluginRecord]] = {}
        self.conflicts: list[str] = []

    def add_callbacks(self, record: PluginRecord, classes: Sequence[type[Callback[Any]]]) -> None:
        """Add one plugin's callback classes; a taken ``type_name`` is recorded as a conflict."""
        for cls in classes:
            if cls.type_name in self._types:
                self.conflicts.append(_clash("callback type", cls.type_name, self._types[cls.type_name].plugin, record))
                continue
            self._types[cls.type_name] = CallbackType(cls.type_name, cls, record)
        record.callback_types = tuple(c.type_name for c in classes)

    def add_value_kinds(self, record: PluginRecord, kinds: Sequence[ValueKind]) -> None:
        """Add one plugin's value kinds; a taken ``name`` is recorded as a conflict."""
        for kind in kinds:
            if kind.name in self._kinds:
                self.conflicts.append(_clash("value kind", kind.name, self._kinds[kind.name][1], record))
                continue
            self._kinds[kind.name] = (kind, record)
        record.value_kinds = tuple(k.name for k in kinds)

    def add_detectors(self, record: PluginRecord, detectors: Sequence[Detector]) -> None:
        """Add one plugin's detectors; a taken ``name`` is recorded as a conflict."""
        for detector in detectors:
            if detector.name in self._detectors:
                self.conflicts.append(_clash("detector", detector.name, self._detectors[detector.name][1], record))
                continue
            self._detectors[detector.name] = (detector, record)
        record.detectors = tuple(d.name for d in detectors)

    def detectors(self) -> dict[str, Detector]:
        """Detectors of plugins that did not fail, by name, in hook-call order."""
        return {n: d for n, (d, r) in self._detectors.items() if r.status != "failed"}

    def callback_types(self) -> dict[str, CallbackType]:
        """Every callback type of a plugin that did not fail; raise on a conflict."""
        if self.conflicts:
            raise PluginConflictError("; ".join(self.conflicts))
        return {n: t for n, t in self._types.items() if t.plugin.status != "failed"}

    def value_kinds(self) -> tuple[ValueKind, ...]:
        """Value kinds of plugins that did not fail, in priority order."""
        return tuple(k for k, r in self._kinds.values() if r.status != "failed")

    def callback_type(self, type_name: str, records: Sequence[PluginRecord]) -> CallbackType:
        """Return the callback type ``type_name``, or raise an error listing the installed ones.

        ``records`` are every plugin's records: the error names those that failed or were not loaded.
        """
        types = self.callback_types()
        if type_name in types:
            return types[type_name]
        installed = ", ".join(sorted(types)) or "none"
        message = f"unknown callback type {type_name!r}; installed types: {installed}"
        failed = [r for r in records if r.status == "failed"]
        blocked = [r for r in records if r.status in ("blocked", "not allowed")]
        if failed:
            message += f" (plugins that failed to load: {'; '.join(f'{r.provider}: {r.error}' for r in failed)})"
        if blocked:
            message += f" (plugins not loaded by policy: {', '.join(r.provider for r in blocked)})"
        if not failed and not blocked:
            message += " (is the plugin that provides it installed?)"
        raise UnknownCallbackTypeError(message)


__all__ = ["CallbackType", "Registry", "validate_callback_classes", "validate_value_kinds"]
