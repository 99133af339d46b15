"""Build the plugin manager: built-ins and entry points, loaded one at a time, with a record of each.

:func:`create_plugin_host` is the only way to get one; nothing happens at import time. The core
talks to plugins only through the typed methods of :class:`PluginHost`, never ``pm.hook.x(...)``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal

import pluggy
from packaging.requirements import Requirement
from pluggy import HookImpl

from flagpipe._version import __version__
from flagpipe.core import hookspecs
from flagpipe.core.callback import TYPE_NAME_PATTERN, Callback, CallbackSettings
from flagpipe.core.hookspecs import PROJECT_NAME
from flagpipe.core.kinds import ValueKind
from flagpipe.core.policy import ENV_TRACE, PluginPolicy, PolicyLayer, normalize_plugin_name, resolve_policy

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import click

    from flagpipe.core.event import FlagEvent

log = logging.getLogger("flagpipe.plugins")

#: Built-in plugin modules, registered through the same hooks as third-party plugins, in this order.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "flagpipe.plugins.csv",
    "flagpipe.plugins.webhook",
    "flagpipe.plugins.hf_dataset",
    "flagpipe.plugins.sql",
    "flagpipe.plugins.value_kinds",
)

#: The entry-point group third-party plugins publish under.
ENTRY_POINT_GROUP = PROJECT_NAME

PluginStatus = Literal["loaded", "blocked", "not allowed", "failed"]


class PluginError(Exception):
    """A problem with plugins: one failed to load in strict mode, a conflict, a missing requirement."""


class PluginConflictError(PluginError):
    """Two plugins registered the same callback type or value kind."""


class MissingPluginsError(PluginError):
    """A required plugin is not installed, has the wrong version, or did not load."""


class UnknownCallbackTypeError(PluginError, KeyError):
    """A config names a callback ``type`` that no loaded plugin provides."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass
class PluginRecord:
    """What flagpipe knows about one plugin: where it came from and whether it loaded."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: PluginStatus
    error: str | None = None
    hooks: tuple[str, ...] = ()
    callback_types: tuple[str, ...] = ()
    value_kinds: tuple[str, ...] = ()

    @property
    def provider(self) -> str:
        """The plugin's name with its distribution and version, for messages."""
        if self.distribution:
            version = f" {self.version}" if self.version else ""
            return f"{self.distribution}{version} ({self.name})"
        return self.name


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


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginHost:
    """The loaded plugins and a typed facade over every hook call the core makes."""

    def __init__(self, pm: pluggy.PluginManager, policy: PluginPolicy) -> None:
        self.pm = pm
        self.policy = policy
        self.records: list[PluginRecord] = []
        self._callback_types: dict[str, CallbackType] | None = None
        self._value_kinds: tuple[ValueKind, ...] | None = None
        self._conflicts: list[str] = []

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

    def _fail(self, record: PluginRecord, exc: BaseException, *, during: str) -> None:
        record.status = "failed"
        record.error = _describe_error(exc)
        plugin = self.pm.get_plugin(record.name)
        if plugin is not None:
            self.pm.unregister(plugin)
        if self.policy.strict:
            raise PluginError(f"plugin {record.provider} failed {during}: {record.error}") from exc
        log.warning("flagpipe plugin %s failed %s: %s", record.provider, during, record.error)

    # -- calling hooks one implementation at a time ----------------------------------------------

    def _impls(self, hook_name: str) -> list[HookImpl]:
        """Return a hook's implementations in pluggy's call order, wrappers left out.

        Calling implementations one at a time, here and in :meth:`_call` only, lets the core know
        which plugin returned what, chain ``prepare`` calls, and isolate observers.
        """
        caller = getattr(self.pm.hook, hook_name)
        return [i for i in reversed(caller.get_hookimpls()) if not (i.hookwrapper or i.wrapper)]

    def _call(self, impl: HookImpl, kwargs: dict[str, Any]) -> Any:
        """Call one implementation with the arguments it names (pluggy's opt-in rule)."""
        tracing = _tracing()
        if tracing:
            print(f"flagpipe trace: {impl.plugin_name}.{impl.function.__name__}({kwargs})", file=sys.stderr)
        result = impl.function(*[kwargs[name] for name in impl.argnames])
        if tracing:
            print(f"flagpipe trace: {impl.plugin_name}.{impl.function.__name__} -> {result!r}", file=sys.stderr)
        return result

    # -- registrations --------------------------------------------------------------------------

    def _collect(self) -> None:
        """Gather callback types and value kinds from every plugin, recording failures and clashes."""
        types: dict[str, CallbackType] = {}
        kinds: dict[str, tuple[ValueKind, PluginRecord]] = {}
        self._conflicts = []
        for plugin_name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # a blocked name, not a plugin
                continue
            callers = self.pm.get_hookcallers(plugin) or []
            self.record_for(plugin_name).hooks = tuple(sorted(c.name for c in callers))
        for impl in self._impls("flagpipe_register_callbacks"):
            record = self.record_for(impl.plugin_name)
            try:
                classes = _validate_callback_classes(self._call(impl, {}))
            except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything; it is recorded
                self._fail(record, exc, during="to register callbacks")
                continue
            for cls in classes:
                if cls.type_name in types:
                    other = types[cls.type_name].plugin
                    self._conflicts.append(
                        f"callback type {cls.type_name!r} is provided by both {other.provider} and "
                        f"{record.provider}; uninstall or block one of them"
                    )
                    continue
                types[cls.type_name] = CallbackType(cls.type_name, cls, record)
            record.callback_types = tuple(c.type_name for c in classes)
        for impl in self._impls("flagpipe_register_value_kinds"):
            record = self.record_for(impl.plugin_name)
            try:
                items = _validate_value_kinds(self._call(impl, {}))
            except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything; it is recorded
                self._fail(record, exc, during="to register value kinds")
                continue
            for kind in items:
                if kind.name in kinds:
                    self._conflicts.append(
                        f"value kind {kind.name!r} is provided by both {kinds[kind.name][1].provider} and "
                        f"{record.provider}; uninstall or block one of them"
                    )
                    continue
                kinds[kind.name] = (kind, record)
            record.value_kinds = tuple(k.name for k in items)
        # A plugin that failed in either hook is unregistered: none of its registrations count.
        self._callback_types = {n: t for n, t in types.items() if t.plugin.status != "failed"}
        self._value_kinds = tuple(k for k, r in kinds.values() if r.status != "failed")

    def _ensure_collected(self) -> None:
        if self._callback_types is None:
            self._collect()

    def callback_types(self) -> dict[str, CallbackType]:
        """Return every registered callback type by ``type_name``; raise on a conflict."""
        self._ensure_collected()
        if self._conflicts:
            raise PluginConflictError("; ".join(self._conflicts))
        assert self._callback_types is not None
        return dict(self._callback_types)

    @property
    def conflicts(self) -> list[str]:
        """Name clashes found between plugins (empty when there are none)."""
        self._ensure_collected()
        return list(self._conflicts)

    def callback_type(self, type_name: str) -> CallbackType:
        """Return the callback type ``type_name``, or raise an error listing the installed ones."""
        types = self.callback_types()
        if type_name in types:
            return types[type_name]
        installed = ", ".join(sorted(types)) or "none"
        message = f"unknown callback type {type_name!r}; installed types: {installed}"
        blocked = [r for r in self.records if r.status in ("blocked", "not allowed")]
        if self.failed:
            failures = "; ".join(f"{r.provider}: {r.error}" for r in self.failed)
            message += f" (plugins that failed to load: {failures})"
        if blocked:
            message += f" (plugins not loaded by policy: {', '.join(r.provider for r in blocked)})"
        if not self.failed and not blocked:
            message += " (is the plugin that provides it installed?)"
        raise UnknownCallbackTypeError(message)

    def value_kinds(self) -> tuple[ValueKind, ...]:
        """Return registered value kinds in priority order."""
        self._ensure_collected()
        assert self._value_kinds is not None
        return self._value_kinds

    # -- the event hooks ------------------------------------------------------------------------

    def prepare_event(self, event: FlagEvent) -> FlagEvent:
        """Pass the event through every ``flagpipe_prepare_event`` in order; errors propagate."""
        from flagpipe.core.event import FlagEvent

        for impl in self._impls("flagpipe_prepare_event"):
            result = self._call(impl, {"event": event})
            if result is None:
                continue
            if not isinstance(result, FlagEvent):
                raise TypeError(
                    f"plugin {impl.plugin_name!r}: flagpipe_prepare_event must return a FlagEvent or None, "
                    f"got {type(result).__name__}"
                )
            event = result
        return event

    def should_drop(self, event: FlagEvent) -> bool:
        """Ask ``flagpipe_filter_event``: True when a plugin drops the event."""
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
        for impl in self._impls(hook_name):
            try:
                self._call(impl, kwargs)
            except Exception:
                log.exception("flagpipe plugin %s raised in %s; ignored", impl.plugin_name, hook_name)

    def register_commands(self, cli: click.Group) -> None:
        """Let plugins add CLI commands; a plugin's error or a taken name is logged, not raised."""
        for impl in self._impls("flagpipe_register_commands"):
            staging = _StagingGroup(cli)
            try:
                self._call(impl, {"cli": staging})
            except Exception:
                log.exception("flagpipe plugin %s raised in flagpipe_register_commands", impl.plugin_name)
                continue
            for name, command in staging.added.items():
                if name in cli.commands:
                    log.warning("flagpipe plugin %s: command %r is already taken; ignored", impl.plugin_name, name)
                else:
                    cli.add_command(command, name)

    # -- registering plugins by hand (tests, the test kit) ----------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object, validate it, and refresh the registrations; return its name.

        :raises PluginError: when the name is blocked or taken, or a hook is unknown (a misspelled
            name) or asks for arguments its spec does not have; the plugin is not registered then.
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
        self._callback_types = None
        self._value_kinds = None

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


class _StagingGroup:
    """Collects the commands one plugin adds, so clashes can be refused before they land."""

    def __init__(self, cli: click.Group) -> None:
        self._cli = cli
        self.added: dict[str, click.Command] = {}

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Stage a command (same signature as :meth:`click.Group.add_command`)."""
        self.added[name or cmd.name or ""] = cmd

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Stage a command defined with ``@cli.command`` or ``@cli.command(...)``."""
        import click

        return self._stage(click.command, args, kwargs)

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """Stage a group defined with ``@cli.group`` or ``@cli.group(...)`` (not the real group's, to check clashes)."""
        import click

        return self._stage(click.group, args, kwargs)

    def _stage(self, make: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used bare: ``@cli.command``
            bare: click.Command = make(args[0])
            self.add_command(bare)
            return bare

        def decorator(function: Any) -> click.Command:
            cmd: click.Command = make(*args, **kwargs)(function)
            self.add_command(cmd)
            return cmd

        return decorator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cli, name)


def _tracing() -> bool:
    return os.environ.get(ENV_TRACE, "").strip().lower() in {"1", "true", "yes", "on"}


def _validate_callback_classes(result: object) -> list[type[Callback[Any]]]:
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


def _validate_value_kinds(result: object) -> list[ValueKind]:
    items: list[ValueKind] = list(result or [])  # type: ignore[call-overload]
    for kind in items:
        if not isinstance(kind, ValueKind):
            raise TypeError(f"flagpipe_register_value_kinds must return ValueKind items, got {kind!r}")
    return items


def _entry_points() -> list[metadata.EntryPoint]:
    seen: set[tuple[str, str]] = set()
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            found.append(ep)
    return found


def create_plugin_host(policy: PluginPolicy | None = None, *, load_builtins: bool = True) -> PluginHost:
    """Build a fresh plugin manager: specs, built-ins, then entry points, checked and recorded.

    :param policy: the resolved plugin policy; by default the one the environment gives.
    :param load_builtins: register the built-in plugins (turn off only to test the machinery).
    :raises PluginError: in strict mode when a plugin fails; always for unmet ``require`` entries.
    """
    if policy is None:
        policy = resolve_policy(PolicyLayer.from_env())
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if _tracing():
        pm.trace.root.setwriter(lambda message: print(message, end="", file=sys.stderr))
        pm.enable_tracing()
    plugins = PluginHost(pm, policy)
    if load_builtins:
        _load_builtins(plugins)
    _load_entry_points(plugins)
    _check_pending(plugins)
    plugins._collect()
    _check_required(plugins)
    return plugins


def _load_builtins(plugins: PluginHost) -> None:
    for module_name in BUILTIN_PLUGINS:
        record = PluginRecord(module_name, PROJECT_NAME, __version__, builtin=True, status="loaded")
        plugins.records.append(record)
        if plugins.policy.is_blocked(module_name):
            record.status = "blocked"
            plugins.pm.set_blocked(module_name)
            continue
        module = importlib.import_module(module_name)
        plugins.pm.register(module, name=module_name)


def _load_entry_points(plugins: PluginHost) -> None:
    policy = plugins.policy
    for ep in _entry_points():
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        record = PluginRecord(ep.name, dist, version, builtin=False, status="loaded")
        if plugins.pm.get_plugin(ep.name) is not None or any(r.name == ep.name for r in plugins.records):
            record.status = "failed"
            record.error = f"another plugin is already registered under the name {ep.name!r}"
            plugins.records.append(record)
            continue
        plugins.records.append(record)
        if policy.is_blocked(ep.name, dist):
            record.status = "blocked"
            plugins.pm.set_blocked(ep.name)
            continue
        if not policy.is_allowed(ep.name, dist):
            record.status = "not allowed"
            continue
        try:
            plugin = ep.load()
            plugins.pm.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - any import-time error of a plugin is isolated
            plugins._fail(record, exc, during="to load")


def _check_pending(plugins: PluginHost) -> None:
    while True:
        try:
            plugins.pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = plugins.pm.get_name(exc.plugin) or repr(exc.plugin)
            plugins._fail(plugins.record_for(name), exc, during="validation")


def _check_required(plugins: PluginHost) -> None:
    problems = []
    for spec in plugins.policy.require:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate():
            continue  # required only elsewhere (another platform or Python version)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{spec} (not installed)")
            continue
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"{spec} (installed {version})")
            continue
        wanted = normalize_plugin_name(req.name)
        mine = [r for r in plugins.records if r.distribution and normalize_plugin_name(r.distribution) == wanted]
        if not mine:
            problems.append(f"{spec} (installed {version}, but it registers no flagpipe plugin)")
        for record in mine:
            if record.status != "loaded":
                detail = f": {record.error}" if record.error else ""
                problems.append(f"{spec} (installed {version}, {record.status}{detail})")
    if problems:
        raise MissingPluginsError(f"missing required plugins: {'; '.join(problems)}")


__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "CallbackType",
    "MissingPluginsError",
    "PluginConflictError",
    "PluginError",
    "PluginHost",
    "PluginRecord",
    "UnknownCallbackTypeError",
    "create_plugin_host",
]
