"""Plugin policy: autoload, allow-list, block-list, required plugins and strict mode.

Each switch can be set by the YAML ``plugins:`` key, an environment variable and a CLI flag. A
:class:`PolicyLayer` holds what one source said; :func:`resolve_policy` merges them, the CLI winning
over the environment and the environment over the YAML for single values, while block-lists and
requirements from every source add up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flagpipe.core.plugin_env import (
    ENV_ALLOW,
    ENV_BLOCK,
    ENV_DISABLE_AUTOLOAD,
    ENV_REQUIRE,
    ENV_STRICT,
    ENV_TRACE,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"environment variable {name}={raw!r}: expected 1/0, true/false, yes/no or on/off")


def _split(raw: str, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(sep) if part.strip())


def normalize_plugin_name(name: str) -> str:
    """Normalise a plugin or distribution name for comparison (PEP 503 style)."""
    return canonicalize_name(name)


class PolicyLayer(BaseModel):
    """What one source (YAML, environment, CLI) says about plugins; None means "not said"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    autoload: bool | None = Field(default=None, description="Load installed third-party plugins.")
    allow: tuple[str, ...] | None = Field(
        default=None, description="Only these plugins (entry point or distribution names); [] means none."
    )
    block: tuple[str, ...] = Field(default=(), description="Never import these plugins.")
    require: tuple[str, ...] = Field(
        default=(), description="Distributions that must be installed and load, with version specifiers."
    )
    strict: bool | None = Field(default=None, description="A plugin that fails to load is an error.")

    @field_validator("require")
    @classmethod
    def _valid_requirements(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for spec in value:
            try:
                Requirement(spec)
            except InvalidRequirement as exc:
                raise ValueError(f"invalid requirement {spec!r}: {exc}") from None
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PolicyLayer:
        """Read the ``FLAGPIPE_*`` plugin variables from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        disable = _env_flag(env, ENV_DISABLE_AUTOLOAD)
        allow_raw = env.get(ENV_ALLOW)
        return cls(
            autoload=None if disable is None else not disable,
            allow=None if allow_raw is None else _split(allow_raw, ","),
            block=_split(env.get(ENV_BLOCK, ""), ","),
            require=_split(env.get(ENV_REQUIRE, ""), ";"),
            strict=_env_flag(env, ENV_STRICT),
        )


class PluginPolicy(BaseModel):
    """The resolved plugin policy the plugin manager applies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    autoload: bool = True
    allow: frozenset[str] | None = None
    block: frozenset[str] = frozenset()
    require: tuple[str, ...] = ()
    strict: bool = False

    @field_validator("allow", "block")
    @classmethod
    def _normalized(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        """Store names normalised, so a policy built directly matches like a resolved one."""
        return None if value is None else frozenset(normalize_plugin_name(n) for n in value)

    def is_blocked(self, *names: str | None) -> bool:
        """True when any of ``names`` (entry point, distribution) is on the block-list."""
        return any(n is not None and normalize_plugin_name(n) in self.block for n in names)

    def is_allowed(self, *names: str | None) -> bool:
        """True when third-party plugins called ``names`` may be loaded under this policy."""
        if self.allow is not None:
            return any(n is not None and normalize_plugin_name(n) in self.allow for n in names)
        return self.autoload


def resolve_policy(*layers: PolicyLayer | None) -> PluginPolicy:
    """Merge layers given from lowest to highest precedence (YAML, environment, CLI)."""
    autoload: bool = True
    allow: Iterable[str] | None = None
    strict = False
    block: set[str] = set()
    require: list[str] = []
    for layer in layers:
        if layer is None:
            continue
        if layer.autoload is not None:
            autoload = layer.autoload
        if layer.allow is not None:
            allow = layer.allow
        if layer.strict is not None:
            strict = layer.strict
        block.update(normalize_plugin_name(n) for n in layer.block)
        require.extend(r for r in layer.require if r not in require)
    return PluginPolicy(
        autoload=autoload,
        allow=None if allow is None else frozenset(normalize_plugin_name(n) for n in allow),
        block=frozenset(block),
        require=tuple(require),
        strict=strict,
    )


__all__ = [
    "ENV_TRACE",  # re-exported with the other switches, which this module uses
    "PluginPolicy",
    "PolicyLayer",
    "normalize_plugin_name",
    "resolve_policy",
]
