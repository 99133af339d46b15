"""Which plugin raised: find the plugin hook a traceback went through, to name it in a message."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import CodeType

    from flagpipe.core.host import PluginHost

__all__ = ["BEFORE_STORING", "blame_plugin"]

#: Hooks called before an event is stored: when one raises, nothing was kept.
BEFORE_STORING = frozenset({"flagpipe_prepare_event", "flagpipe_filter_event"})


def _hook_code(host: PluginHost) -> dict[CodeType, tuple[str, str]]:
    """The code object of every hook implementation, mapped to (plugin name, hook name)."""
    codes: dict[CodeType, tuple[str, str]] = {}
    for plugin_name, plugin in host.pm.list_name_plugin():
        if plugin is None:
            continue
        for caller in host.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                code = getattr(impl.function, "__code__", None)
                if impl.plugin is plugin and code is not None:
                    codes[code] = (plugin_name, caller.name)
    return codes


def blame_plugin(host: PluginHost, error: BaseException) -> tuple[str, str] | None:
    """(plugin name, hook name) of the innermost plugin hook ``error`` (or its cause) passed through."""
    codes = _hook_code(host)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = None
        tb = current.__traceback__
        while tb is not None:
            found = codes.get(tb.tb_frame.f_code, found)
            tb = tb.tb_next
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None
