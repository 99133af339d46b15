"""The plugin host: the loaded plugins and a typed facade over every hook call the core makes.

:func:`create_plugin_host` is the only way to get one; nothing happens at import time. The core
calls plugins only through the typed methods of :class:`PluginHost`; each method calls the hook
through pluggy (see :mod:`flagpipe.core.hookcalls`). Loading lives in :mod:`flagpipe.core.loading`,
the callback types and value kinds in :mod:`flagpipe.core.registry`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from flagpipe.core import hookspecs, loading
from flagpipe.core.detectors import validate_detectors
from flagpipe.core.hookcalls import FlagpipePluginManager, HookCalls, call_one, reject_wrappers
from flagpipe.core.hookspecs import PROJECT_NAME
from flagpipe.core.loading import BUILTIN_PLUGINS, ENTRY_POINT_GROUP, fail_plugin
from flagpipe.core.plugin_errors import (
    MissingPluginsError,
    PluginConflictError,
    PluginError,
    UnknownCallbackTypeError,
)
from flagpipe.core.policy import PluginPolicy, PolicyLayer, resolve_policy
from flagpipe.core.records import PluginRecord, PluginStatus
from flagpipe.core.registry import CallbackType, Registry, validate_callback_classes, validate_value_kinds
from flagpipe.core.tracing import trace_hook_calls, tracing_requested

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from flagpipe.core.detectors import Detector
    from flagpipe.core.event import FlagEvent
    from flagpipe.core.kinds import ValueKind
    from flagpipe.core.sources import FlagSource

log = logging.getLogger("flagpipe.plugins")

T = TypeVar("T")


class PluginHost:
    """The loaded plugins and a typed facade over every hook call the core makes."""

    def __init__(self, pm: FlagpipePluginManager, policy: PluginPolicy) -> None:
        self.pm = pm
        self.policy = policy
        self.records: list[PluginRecord] = []
        self._calls = HookCalls(pm)
        self._registry: Registry | None = None

    # -- records -------------------------------------------------------------------------------

    def record_for(self, plugin_name: str) -> PluginRecord:
        """Return the record of a registered plugin (a plain one for plugins registered by hand)."""
        for record in self.records:
            if record.name == plugin_name:
                return record
        record = PluginRecord(plugin_name, None, None, builtin=False, status="loaded")
        self.records.append(record)
        return record

    @property
    def failed(self) -> list[PluginRecord]:
        """Plugins that failed to load."""
        return [r for r in self.records if r.status == "failed"]

    # -- registrations --------------------------------------------------------------------------

    def _collect(self) -> Registry:
        """Gather callback types and value kinds from every plugin, recording failures and clashes."""
        registry = Registry()
        for plugin_name, plugin in self.pm.list_name_plugin():
            if plugin is not None:  # None is a blocked name, not a plugin
                callers = self.pm.get_hookcallers(plugin) or []
                self.record_for(plugin_name).hooks = tuple(sorted(c.name for c in callers))
        registrations: tuple[tuple[str, Callable[[object], list[Any]], Callable[[Any, list[Any]], None], str], ...] = (
            ("flagpipe_register_callbacks", validate_callback_classes, registry.add_callbacks, "callbacks"),
            ("flagpipe_register_value_kinds", validate_value_kinds, registry.add_value_kinds, "value kinds"),
            ("flagpipe_register_detectors", validate_detectors, registry.add_detectors, "detectors"),
        )
        for hook_name, validate, add, what in registrations:
            for plugin_name, caller in self._calls.each(hook_name):
                record = self.record_for(plugin_name)
                try:
                    items = validate(call_one(caller))
                except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything; it is recorded
                    fail_plugin(self.pm, self.policy, record, exc, during=f"to register {what}")
                    continue
                add(record, items)
        self._registry = registry
        return registry

    def _collected(self) -> Registry:
        return self._registry if self._registry is not None else self._collect()

    def callback_types(self) -> dict[str, CallbackType]:
        """Return every registered callback type by ``type_name``; raise on a conflict."""
        return self._collected().callback_types()

    @property
    def conflicts(self) -> list[str]:
        """Name clashes found between plugins (empty when there are none)."""
        return list(self._collected().conflicts)

    def callback_type(self, type_name: str) -> CallbackType:
        """Return the callback type ``type_name``, or raise an error listing the installed ones."""
        return self._collected().callback_type(type_name, self.records)

    def value_kinds(self) -> tuple[ValueKind, ...]:
        """Return registered value kinds in priority order."""
        return self._collected().value_kinds()

    def detectors(self) -> dict[str, Detector]:
        """Return registered redaction detectors by name (``flagpipe_register_detectors``)."""
        return self._collected().detectors()

    # -- the event hooks ------------------------------------------------------------------------

    def prepare_event(self, event: FlagEvent) -> FlagEvent:
        """Pass the event through every ``flagpipe_prepare_event`` in order; errors propagate."""
        callers = self._calls.each("flagpipe_prepare_event")
        if not callers:
            return event
        from flagpipe.core.event import FlagEvent

        for plugin_name, caller in callers:
            result = call_one(caller, event=event)
            if result is None:
                continue
            if not isinstance(result, FlagEvent):
                raise TypeError(
                    f"plugin {plugin_name!r}: flagpipe_prepare_event must return a FlagEvent or None, "
                    f"got {type(result).__name__}"
                )
            event = result
        return event

    def should_drop(self, event: FlagEvent) -> bool:
        """Ask ``flagpipe_filter_event``: True when a plugin drops the event."""
        if not self._calls.implemented("flagpipe_filter_event"):
            return False
        return bool(self.pm.hook.flagpipe_filter_event(event=event))

    def notify_delivered(self, events: Sequence[FlagEvent], callback_name: str, attempt: int) -> None:
        """Tell observers a batch reached a callback; observer errors are logged and ignored."""
        self._observe("flagpipe_event_delivered", events=events, callback_name=callback_name, attempt=attempt)

    def notify_failed(
        self,
        events: Sequence[FlagEvent],
        callback_name: str,
        error: BaseException,
        attempt: int,
        *,
        final: bool,
    ) -> None:
        """Tell observers a delivery failed; observer errors are logged and ignored."""
        self._observe(
            "flagpipe_delivery_failed",
            events=events,
            callback_name=callback_name,
            error=error,
            attempt=attempt,
            final=final,
        )

    def _observe(self, hook_name: str, **kwargs: Any) -> None:
        for plugin_name, caller in self._calls.each(hook_name):
            try:
                caller(**kwargs)
            except Exception:
                log.exception("flagpipe plugin %s raised in %s; ignored", plugin_name, hook_name)

    def register_commands_each(self, group_for: Callable[[str], T]) -> list[tuple[str, T]]:
        """Call ``flagpipe_register_commands`` once per plugin, each with its own group.

        ``group_for(plugin_name)`` makes the group-like object a plugin adds its commands to. Returns
        ``(plugin name, group)`` in call order; a plugin that raises is logged and left out.
        """
        staged = []
        for plugin_name, caller in self._calls.each("flagpipe_register_commands"):
            group = group_for(plugin_name)
            try:
                caller(cli=group)
            except Exception:
                log.exception("flagpipe plugin %s raised in flagpipe_register_commands", plugin_name)
                continue
            staged.append((plugin_name, group))
        return staged

    def open_flag_source(self, source: str, storage_options: Mapping[str, Any] | None = None) -> FlagSource | None:
        """Ask ``flagpipe_open_flag_source`` in hook-call order; the first source returned, or None.

        :raises PluginError: when a plugin returns something that is not a :class:`FlagSource`.
        An error a plugin raises propagates unchanged (the plugin's name is logged).
        """
        from flagpipe.core.sources import FlagSource

        options = dict(storage_options or {})
        for plugin_name, caller in self._calls.each("flagpipe_open_flag_source"):
            try:
                result = caller(source=source, storage_options=options)  # firstresult: the value itself
            except Exception:
                log.error("flagpipe plugin %s raised in flagpipe_open_flag_source", plugin_name)
                raise
            if result is None:
                continue
            if not isinstance(result, FlagSource):
                raise PluginError(
                    f"plugin {plugin_name!r}: flagpipe_open_flag_source must return a FlagSource or None, "
                    f"got {type(result).__name__}"
                )
            return result
        return None

    # -- registering plugins by hand (tests, the test kit) ----------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object, validate it, and refresh the registrations; return its name.

        :raises PluginError: when the name is blocked or taken, a hook is unknown (a misspelled name)
            or asks for arguments its spec does not have, or a hook that flagpipe calls one plugin at
            a time is declared as a wrapper; the plugin is not registered then.
        """
        try:
            registered = self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(f"plugin {name or plugin!r} cannot be registered: {exc}") from exc
        if registered is None:
            raise PluginError(f"plugin {name or plugin!r} is blocked or already registered")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=registered)
            raise PluginError(f"plugin {registered!r} cannot be registered: {exc}") from exc
        reject_wrappers(self.pm, plugin, registered)
        self._forget(None)
        return registered

    def unregister(self, name: str) -> None:
        """Unregister a plugin by name and refresh the registrations."""
        if self.pm.unregister(name=name) is None:
            raise PluginError(f"no plugin named {name!r} is registered")
        self._forget(name)

    def _forget(self, name: str | None) -> None:
        """Drop the record of ``name`` (if given) and the collected registrations."""
        if name is not None:
            self.records = [r for r in self.records if r.name != name]
        self._registry = None

    @contextlib.contextmanager
    def registered(self, plugin: object, name: str | None = None) -> Iterator[str]:
        """Register ``plugin`` for the ``with`` block, and always unregister exactly it.

        A plugin whose registration hook failed inside the block was already unregistered then
        (its record says why); leaving the block only forgets that record.
        """
        plugin_name = self.register(plugin, name)
        try:
            yield plugin_name
        finally:
            if self.pm.get_plugin(plugin_name) is plugin:
                self.unregister(plugin_name)
            else:
                self._forget(plugin_name)
            assert self.pm.get_plugin(plugin_name) is None


def create_plugin_host(policy: PluginPolicy | None = None, *, load_builtins: bool = True) -> PluginHost:
    """Build a fresh plugin host: specs, built-ins, then entry points, checked and recorded.

    :param policy: the resolved plugin policy; by default the one the environment gives.
    :param load_builtins: register the built-in plugins (turn off only to test the machinery).
    :raises PluginError: in strict mode when a plugin fails; always for unmet ``require`` entries.
    """
    if policy is None:
        policy = resolve_policy(PolicyLayer.from_env())
    pm = FlagpipePluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if tracing_requested():
        trace_hook_calls(pm)
    host = PluginHost(pm, policy)
    if load_builtins:
        loading.load_builtins(pm, policy, host.records)
    loading.load_entry_points(pm, policy, host.records)
    loading.check_pending(pm, policy, host.record_for)
    host._collect()
    loading.check_required(policy, host.records)
    return host


__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "CallbackType",
    "MissingPluginsError",
    "PluginConflictError",
    "PluginError",
    "PluginHost",
    "PluginRecord",
    "PluginStatus",
    "UnknownCallbackTypeError",
    "create_plugin_host",
]
