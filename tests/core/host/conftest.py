"""Fixtures for the plugin tests: a real on-disk site of test plugins, and isolation from it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: A site directory holding real ``*.dist-info`` folders and the plugin modules they point at.
SITE = Path(__file__).resolve().parent / "plugin_site"
#: A second site directory with a distribution whose callback type clashes with one in :data:`SITE`.
CONFLICT_SITE = SITE / "conflict"
#: Every test-plugin module name starts with this, so the tests can forget them all.
MODULE_PREFIX = "fptest_"


def forget_test_modules() -> None:
    """Drop every test-plugin module from ``sys.modules``."""
    for name in [m for m in sys.modules if m.startswith(MODULE_PREFIX)]:
        del sys.modules[name]


def _imported_test_modules() -> list[str]:
    log = sys.modules.get("fptest_imports")
    return list(getattr(log, "IMPORTED", []))


@pytest.fixture(autouse=True)
def _isolate_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start and end every test without test-plugin modules."""
    forget_test_modules()
    yield
    forget_test_modules()


@pytest.fixture(autouse=True)
def command_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache of plugin commands for each test, in this process and in its subprocesses."""
    cache_home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))  # subprocesses drop FLAGPIPE_* but keep this
    monkeypatch.setenv("FLAGPIPE_CACHE_DIR", str(cache_home / "flagpipe"))
    return cache_home / "flagpipe"


@pytest.fixture
def imported() -> Callable[[], list[str]]:
    """Return a function listing the test-plugin modules whose import started since the test began.

    Each test-plugin module logs itself in ``fptest_imports.IMPORTED`` before anything can fail, so a
    module that failed half-way is listed too; one that is listed nowhere was never imported.
    """
    return _imported_test_modules


@pytest.fixture
def plugin_site(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put :data:`SITE` on ``sys.path``: its distributions are now discovered like installed ones."""
    monkeypatch.syspath_prepend(str(SITE))
    importlib.invalidate_caches()
    return SITE


@pytest.fixture
def conflict_site(monkeypatch: pytest.MonkeyPatch, plugin_site: Path) -> Path:
    """Also put :data:`CONFLICT_SITE` on ``sys.path``."""
    monkeypatch.syspath_prepend(str(CONFLICT_SITE))
    importlib.invalidate_caches()
    return CONFLICT_SITE
