"""The errors of the plugin machinery: loading, registrations and requirements."""

from __future__ import annotations


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


__all__ = ["MissingPluginsError", "PluginConflictError", "PluginError", "UnknownCallbackTypeError"]
