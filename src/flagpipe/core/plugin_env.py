"""The environment variables of the plugin policy, in a module that imports nothing.

The CLI reads them to key its cache of plugin commands without importing the policy models.
"""

from __future__ import annotations

#: Set to ``1`` to load no third-party plugin unless allow-listed.
ENV_DISABLE_AUTOLOAD = "FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD"
#: Comma-separated allow-list of plugin (entry point) or distribution names; empty means none.
ENV_ALLOW = "FLAGPIPE_PLUGINS"
#: Comma-separated block-list of plugin (entry point) or distribution names, never imported.
ENV_BLOCK = "FLAGPIPE_BLOCK_PLUGINS"
#: Semicolon-separated requirements such as ``flagpipe-s3>=1.2,<2``.
ENV_REQUIRE = "FLAGPIPE_REQUIRE_PLUGINS"
#: Set to ``1`` to turn a plugin that fails to load into an error.
ENV_STRICT = "FLAGPIPE_STRICT_PLUGINS"
#: Set to ``1`` to print every hook call with its plugins and results.
ENV_TRACE = "FLAGPIPE_TRACE_PLUGINS"

#: Every variable that changes which plugins load.
POLICY_VARIABLES: tuple[str, ...] = (ENV_DISABLE_AUTOLOAD, ENV_ALLOW, ENV_BLOCK, ENV_REQUIRE, ENV_STRICT)

__all__ = [
    "ENV_ALLOW",
    "ENV_BLOCK",
    "ENV_DISABLE_AUTOLOAD",
    "ENV_REQUIRE",
    "ENV_STRICT",
    "ENV_TRACE",
    "POLICY_VARIABLES",
]
