"""What flagpipe knows about each plugin: a :class:`PluginRecord` per built-in, entry point or object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Where a plugin stands: registered, blocked or left out by the policy, or failed (with the error).
PluginStatus = Literal["loaded", "blocked", "not allowed", "failed"]


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
    detectors: tuple[str, ...] = ()

    @property
    def provider(self) -> str:
        """The plugin's name with its distribution and version, for messages."""
        if self.distribution:
            version = f" {self.version}" if self.version else ""
            return f"{self.distribution}{version} ({self.name})"
        return self.name


def describe_error(exc: BaseException) -> str:
    """``Type: message``, the form errors take in records and messages."""
    return f"{type(exc).__name__}: {exc}"


__all__ = ["PluginRecord", "PluginStatus", "describe_error"]
