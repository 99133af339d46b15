"""flagpipe's test kit for plugin authors: fixtures and a contract test every callback should pass.

It is a pytest plugin that is never loaded on its own; opt in from a ``conftest.py`` or a test module::

    pytest_plugins = ["flagpipe.testing"]

Fixtures:

- ``flagging_dir``: an empty flagging directory under ``tmp_path``.
- ``flagpipe_plugins``: a fresh plugin manager with the built-ins only (no third-party autoload).
- ``register_plugin``: ``register_plugin(plugin, name=None)`` registers a plugin on
  ``flagpipe_plugins`` for one test; it is always unregistered when the test ends.
- ``make_flagger``: ``make_flagger(CallbackClass, settings)`` builds a :class:`flagpipe.Flagger` whose
  chain is that one callback, delivering inline (``flag()`` returns once the callback has the flag);
  every Flagger it built is closed when the test ends.

And :class:`CallbackContract`, a test class to subclass with your callback class and its settings;
:class:`DetectorContract`, one for a redaction detector (with :class:`DetectorPlugin` to register
detectors for a test, :func:`find_spans` to see what a detector finds in a text and
:func:`scan_file` what a detector of files finds in a file).
The kit needs pytest (``pip install "flagpipe[testing]"``).
"""

from __future__ import annotations

from flagpipe.testing.contract import CallbackContract
from flagpipe.testing.detectors import DetectorContract, DetectorPlugin, find_spans, scan_file
from flagpipe.testing.fixtures import (
    CallbackPlugin,
    FlaggerFactory,
    PluginRegistrar,
    flagging_dir,
    flagpipe_plugins,
    make_flagger,
    new_plugin_manager,
    register_plugin,
)

__all__ = [
    "CallbackContract",
    "CallbackPlugin",
    "DetectorContract",
    "DetectorPlugin",
    "FlaggerFactory",
    "PluginRegistrar",
    "find_spans",
    "flagging_dir",
    "flagpipe_plugins",
    "make_flagger",
    "new_plugin_manager",
    "register_plugin",
    "scan_file",
]
