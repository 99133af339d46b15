"""Shared fixtures: a fresh plugin manager per test, and isolation from the caller's environment."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

import pytest

from flagpipe.core.host import PluginHost, create_plugin_host
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator

# Libraries that phone home read these when first imported: set them before any test imports one.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="flagpipe-tests-hf-home-"))
# The CLI caches plugin commands under the user cache folder: tests keep theirs private.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="flagpipe-tests-cache-")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)

#: The plugin-author kit, used by our own tests as plugin authors use it.
pytest_plugins = ["flagpipe.testing"]


@pytest.fixture(autouse=True)
def _clean_flagpipe_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No FLAGPIPE_* variable from the outer environment leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("FLAGPIPE_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def plugins() -> PluginHost:
    """A fresh plugin manager with the built-ins only (no third-party autoload)."""
    return create_plugin_host(PluginPolicy(autoload=False))
