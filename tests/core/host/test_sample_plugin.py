"""The sample third-party plugin in ``examples/flagpipe-jsonl``, installed by pip from its own pyproject.

``scripts/test.sh`` installs it with pip into ``.venv/sample-plugins`` (a site folder of its own, so
that the other tests, which list every installed plugin, do not see it); these tests put that folder
on the path, find the plugin through its entry point with autoload on, and run its own tests, which
use the kit.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "flagpipe-jsonl"
#: Where ``scripts/test.sh`` installs the sample plugin.
SAMPLE_SITE = Path(sys.prefix) / "sample-plugins"
INSTALL_HINT = f"install it first: {sys.executable} -m pip install --upgrade --no-deps --target {SAMPLE_SITE} {SAMPLE}"


@pytest.fixture
def sample_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[metadata.Distribution]:
    """Put the sample's site folder on ``sys.path``; return its distribution."""
    found = list(metadata.distributions(name="flagpipe-jsonl", path=[str(SAMPLE_SITE)]))
    if not found:
        pytest.fail(f"the sample plugin is not installed in {SAMPLE_SITE}; {INSTALL_HINT}")
    monkeypatch.syspath_prepend(str(SAMPLE_SITE))
    importlib.invalidate_caches()
    yield found[0]
    sys.modules.pop("flagpipe_jsonl", None)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SAMPLE_SITE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_its_entry_point_is_in_the_flagpipe_group(sample_installed: metadata.Distribution) -> None:
    entry_points = [ep for ep in sample_installed.entry_points if ep.group == "flagpipe"]
    assert [(ep.name, ep.value) for ep in entry_points] == [("jsonl", "flagpipe_jsonl")]


def test_autoload_finds_it_and_registers_its_callback(sample_installed: metadata.Distribution) -> None:
    plugins = create_plugin_host(PluginPolicy(autoload=True))
    jsonl = plugins.callback_type("jsonl")
    assert jsonl.cls.__module__ == "flagpipe_jsonl"
    assert (jsonl.plugin.name, jsonl.plugin.distribution, jsonl.plugin.status) == ("jsonl", "flagpipe-jsonl", "loaded")
    assert "jsonl" not in create_plugin_host(PluginPolicy(autoload=False)).callback_types()


@pytest.mark.slow
def test_flagpipe_plugins_lists_it(sample_installed: metadata.Distribution) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flagpipe", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)}
    assert records["jsonl"] == {
        "name": "jsonl",
        "distribution": "flagpipe-jsonl",
        "version": sample_installed.version,
        "builtin": False,
        "status": "loaded",
        "error": None,
        "hooks": ["flagpipe_register_callbacks"],
        "callback_types": ["jsonl"],
        "value_kinds": [],
        "detectors": [],
    }


@pytest.mark.slow
def test_its_own_tests_pass_the_kit(sample_installed: metadata.Distribution) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"],
        cwd=SAMPLE,
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TestJSONLContract::test_replayed_batch_is_not_duplicated" in result.stdout
    assert "PASSED tests/test_jsonl.py::TestJSONLContract::test_permanent_errors_are_classified" in result.stdout
