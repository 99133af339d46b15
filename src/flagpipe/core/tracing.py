"""``FLAGPIPE_TRACE_PLUGINS=1``: print every hook call, its plugins, arguments and result to stderr.

Built on pluggy's :meth:`~pluggy.PluginManager.add_hookcall_monitoring`, so it sees every call the
core makes, whole or per plugin. A call that reaches one plugin reads
``flagpipe trace: PLUGIN.HOOK({arguments})`` then ``flagpipe trace: PLUGIN.HOOK -> RESULT``; a call
of a whole hook (``flagpipe_filter_event``) reads ``flagpipe trace: HOOK [hook] (PLUGINS)(...)``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from flagpipe.core.hookcalls import WHOLE_CALL_HOOKS
from flagpipe.core.plugin_env import ENV_TRACE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pluggy
    from pluggy import HookImpl

_ON = {"1", "true", "yes", "on"}


def tracing_requested(env: Mapping[str, str] | None = None) -> bool:
    """True when ``FLAGPIPE_TRACE_PLUGINS`` is set to a true value."""
    env = os.environ if env is None else env
    return env.get(ENV_TRACE, "").strip().lower() in _ON


def _target(hook_name: str, impls: Sequence[HookImpl]) -> str:
    if hook_name in WHOLE_CALL_HOOKS or len(impls) != 1:
        return f"{hook_name} [hook] ({', '.join(i.plugin_name for i in reversed(impls))})"
    return f"{impls[0].plugin_name}.{hook_name}"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)  # looked up per call: tests and apps may swap sys.stderr


def trace_hook_calls(pm: pluggy.PluginManager, write: Callable[[str], None] = _stderr) -> Callable[[], None]:
    """Write a line before and after every hook call of ``pm``; return the function that stops it."""

    def before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        write(f"flagpipe trace: {_target(hook_name, impls)}({dict(kwargs)!r})")

    def after(outcome: Any, hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        if outcome.exception is not None:
            result = f"raised {type(outcome.exception).__name__}: {outcome.exception}"
        else:
            value = outcome.get_result()
            if isinstance(value, list) and len(impls) == 1 and hook_name not in WHOLE_CALL_HOOKS:
                value = value[0] if value else None  # the one plugin's own result
            result = f"-> {value!r}"
        write(f"flagpipe trace: {_target(hook_name, impls)} {result}")

    return pm.add_hookcall_monitoring(before, after)


__all__ = ["trace_hook_calls", "tracing_requested"]
