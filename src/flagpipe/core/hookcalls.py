"""Calling hooks through pluggy, per plugin where the core must know who returned what.

Every hook call goes through a pluggy hook caller, so pluggy's monitoring (and flagpipe's
``FLAGPIPE_TRACE_PLUGINS``) sees it. Hooks whose implementations the core calls one at a time
(registrations, the ``flagpipe_prepare_event`` chain, isolated observers and commands) use one
``pm.subset_hook_caller`` per plugin, cached until a plugin is registered or unregistered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from flagpipe.core.plugin_errors import PluginError

if TYPE_CHECKING:
    from pluggy import HookCaller

#: Hooks the core calls in one pluggy call: the only ones where wrapper implementations are allowed.
WHOLE_CALL_HOOKS: frozenset[str] = frozenset({"flagpipe_filter_event"})


class FlagpipePluginManager(pluggy.PluginManager):
    """pluggy's manager, counting the changes to its set of plugins so callers can be cached."""

    #: Bumped on every register and unregister.
    generation: int = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` (see :meth:`pluggy.PluginManager.register`)."""
        self.generation += 1
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin by object or name (see :meth:`pluggy.PluginManager.unregister`)."""
        self.generation += 1
        return super().unregister(plugin, name)


def unsupported_wrappers(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Names of the hooks ``plugin`` wraps (``wrapper=True`` / ``hookwrapper=True``) where flagpipe cannot."""
    found = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.name in WHOLE_CALL_HOOKS:
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                kind = "wrapper=True" if impl.wrapper else "hookwrapper=True"
                found.append(f"{caller.name} ({kind})")
    return found


def reject_wrappers(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Unregister ``plugin`` and raise :class:`PluginError` if it wraps a hook called per plugin."""
    wrapped = unsupported_wrappers(pm, plugin)
    if wrapped:
        pm.unregister(plugin)
        allowed = ", ".join(sorted(WHOLE_CALL_HOOKS))
        raise PluginError(
            f"plugin {name!r} declares a wrapper on {', '.join(wrapped)}; flagpipe calls that hook one "
            f"implementation at a time, so wrappers are supported only on {allowed}"
        )


class HookCalls:
    """Per-plugin hook callers in pluggy's call order, cached per set of registered plugins."""

    def __init__(self, pm: FlagpipePluginManager) -> None:
        self._pm = pm
        self._generation = -1
        self._each: dict[str, tuple[tuple[str, HookCaller], ...]] = {}
        self._implemented: dict[str, bool] = {}

    def _fresh(self) -> None:
        if self._pm.generation != self._generation:
            self._each.clear()
            self._implemented.clear()
            self._generation = self._pm.generation

    def implemented(self, hook_name: str) -> bool:
        """True when at least one registered plugin implements ``hook_name``."""
        self._fresh()
        known = self._implemented.get(hook_name)
        if known is None:
            known = self._implemented[hook_name] = bool(getattr(self._pm.hook, hook_name).get_hookimpls())
        return known

    def each(self, hook_name: str) -> tuple[tuple[str, HookCaller], ...]:
        """``(plugin name, caller)`` for each implementation of ``hook_name``, in call order.

        Each caller reaches that one plugin's implementation through pluggy, with pluggy's argument
        selection (an implementation takes the subset of arguments it names) and monitoring.
        """
        self._fresh()
        cached = self._each.get(hook_name)
        if cached is None:
            impls = list(reversed(getattr(self._pm.hook, hook_name).get_hookimpls()))
            plugins = [impl.plugin for impl in impls]
            cached = tuple(
                (
                    impl.plugin_name,
                    self._pm.subset_hook_caller(hook_name, [p for p in plugins if p is not impl.plugin]),
                )
                for impl in impls
            )
            self._each[hook_name] = cached
        return cached


def call_one(caller: HookCaller, **kwargs: Any) -> Any:
    """Call a one-plugin caller and return its result (None when it returned None)."""
    results: list[Any] = caller(**kwargs)
    return results[0] if results else None


__all__ = [
    "WHOLE_CALL_HOOKS",
    "FlagpipePluginManager",
    "HookCalls",
    "call_one",
    "reject_wrappers",
    "unsupported_wrappers",
]
