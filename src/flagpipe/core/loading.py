"""Loading plugins: the built-ins, then entry points one at a time, each with a record.

The policy is applied before anything is imported: a blocked or not-allowed plugin is recorded,
never imported. A plugin that fails to import, register or validate is recorded as failed and
unregistered (an error in strict mode). Required plugins are checked last.
"""

from __future__ import annotations

import importlib
import logging
from importlib import metadata
from typing import TYPE_CHECKING

import pluggy
from packaging.requirements import Requirement

from flagpipe._version import __version__
from flagpipe.core.hookcalls import reject_wrappers
from flagpipe.core.hookspecs import PROJECT_NAME
from flagpipe.core.plugin_errors import MissingPluginsError, PluginError
from flagpipe.core.policy import normalize_plugin_name
from flagpipe.core.records import PluginRecord, describe_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from flagpipe.core.policy import PluginPolicy

log = logging.getLogger("flagpipe.plugins")

#: Built-in plugin modules, registered through the same hooks as third-party plugins, in this order.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "flagpipe.plugins.csv",
    "flagpipe.plugins.webhook",
    "flagpipe.plugins.hf_dataset",
    "flagpipe.plugins.sql",
    "flagpipe.plugins.parquet",
    "flagpipe.plugins.forward",
    "flagpipe.plugins.value_kinds",
    "flagpipe.plugins.redact",
)

#: The entry-point group third-party plugins publish under.
ENTRY_POINT_GROUP = PROJECT_NAME


def fail_plugin(
    pm: pluggy.PluginManager, policy: PluginPolicy, record: PluginRecord, exc: BaseException, *, during: str
) -> None:
    """Record ``record``'s plugin as failed and unregister it; raise :class:`PluginError` in strict mode."""
    record.status = "failed"
    record.error = describe_error(exc)
    plugin = pm.get_plugin(record.name)
    if plugin is not None:
        pm.unregister(plugin)
    if policy.strict:
        raise PluginError(f"plugin {record.provider} failed {during}: {record.error}") from exc
    log.warning("flagpipe plugin %s failed %s: %s", record.provider, during, record.error)


def load_builtins(pm: pluggy.PluginManager, policy: PluginPolicy, records: list[PluginRecord]) -> None:
    """Register :data:`BUILTIN_PLUGINS` that the policy does not block."""
    for module_name in BUILTIN_PLUGINS:
        record = PluginRecord(module_name, PROJECT_NAME, __version__, builtin=True, status="loaded")
        records.append(record)
        if policy.is_blocked(module_name):
            record.status = "blocked"
            pm.set_blocked(module_name)
            continue
        pm.register(importlib.import_module(module_name), name=module_name)


def entry_points() -> list[metadata.EntryPoint]:
    """The installed entry points of :data:`ENTRY_POINT_GROUP`, each once."""
    seen: set[tuple[str, str]] = set()
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            found.append(ep)
    return found


def load_entry_points(pm: pluggy.PluginManager, policy: PluginPolicy, records: list[PluginRecord]) -> None:
    """Import and register each entry point the policy lets through, one at a time, recording each."""
    for ep in entry_points():
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        record = PluginRecord(ep.name, dist, version, builtin=False, status="loaded")
        taken = pm.get_plugin(ep.name) is not None or any(r.name == ep.name for r in records)
        records.append(record)
        if taken:
            record.status = "failed"
            record.error = f"another plugin is already registered under the name {ep.name!r}"
            continue
        if policy.is_blocked(ep.name, dist):
            record.status = "blocked"
            pm.set_blocked(ep.name)
            continue
        if not policy.is_allowed(ep.name, dist):
            record.status = "not allowed"
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            reject_wrappers(pm, plugin, ep.name)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any import-time error of a plugin is isolated
            # SystemExit too: a plugin calling sys.exit() on import is a failed plugin, not the app's exit
            fail_plugin(pm, policy, record, exc, during="to load")


def check_pending(pm: pluggy.PluginManager, policy: PluginPolicy, record_for: Callable[[str], PluginRecord]) -> None:
    """Run pluggy's ``check_pending`` until it passes, failing each plugin with an unknown hook."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            fail_plugin(pm, policy, record_for(name), exc, during="validation")


def check_required(policy: PluginPolicy, records: list[PluginRecord]) -> None:
    """Raise :class:`MissingPluginsError` unless every ``require`` entry is installed and loaded."""
    problems = []
    for spec in policy.require:
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
        mine = [r for r in records if r.distribution and normalize_plugin_name(r.distribution) == wanted]
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
    "check_pending",
    "check_required",
    "entry_points",
    "fail_plugin",
    "load_builtins",
    "load_entry_points",
]
