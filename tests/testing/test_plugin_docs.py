"""docs/plugins.md matches the kit: every contract test, hook and fixture is documented, and its examples pass."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

import flagpipe.testing
from flagpipe.scaffold import FILES
from flagpipe.testing import CallbackContract, DetectorContract

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
SAMPLE_SITE = Path(sys.prefix) / "sample-plugins"


def _section(title: str) -> str:
    start = PAGE.index(f"## {title}")
    end = PAGE.find("\n## ", start + 1)
    return PAGE[start : end if end != -1 else len(PAGE)]


def test_every_contract_test_and_hook_is_documented() -> None:
    kit = _section("5. Test it with the kit")
    tests = [name for name in vars(CallbackContract) if name.startswith("test_")]
    hooks = ["callback_class", "settings", "stored_ids", "fail_retryably", "fail_permanently", "schema", "make_event"]
    missing = [name for name in [*tests, *hooks] if f"`{name}" not in kit]
    assert not missing, f"docs/plugins.md does not document: {missing}"


def test_every_fixture_is_documented() -> None:
    fixtures = [name for name, value in vars(flagpipe.testing).items() if _is_fixture(value)]
    assert fixtures
    missing = [name for name in fixtures if f"| `{name}` |" not in _section("5. Test it with the kit")]
    assert not missing, f"docs/plugins.md has no row for the fixtures {missing}"


def _is_fixture(value: object) -> bool:
    return type(value).__name__ == "FixtureFunctionDefinition" or (
        inspect.isfunction(value) and hasattr(value, "_pytestfixturefunction")
    )


def test_scaffold_files_and_switches_are_documented() -> None:
    missing = [Path(path).name for path in FILES if Path(path).name not in PAGE]
    missing += [
        s for s in ("FLAGPIPE_TRACE_PLUGINS=1", "FLAGPIPE_STRICT_PLUGINS=1", "--dir", "--type-name") if s not in PAGE
    ]
    missing += [
        s for s in ('pytest_plugins = ["flagpipe.testing"]', "[project.entry-points.flagpipe]") if s not in PAGE
    ]
    assert not missing, f"docs/plugins.md does not mention: {missing}"


def test_the_kit_examples_pass(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The python blocks of the kit section, each run as a test module against the installed sample plugin."""
    blocks = re.findall(r"^```python\n(.*?)^```", _section("5. Test it with the kit"), re.MULTILINE | re.DOTALL)
    modules = {f"test_doc_{i}": code for i, code in enumerate(blocks) if "def test_" in code or "class Test" in code}
    assert len(modules) == 4
    monkeypatch.syspath_prepend(str(SAMPLE_SITE))
    importlib.invalidate_caches()
    pytester.makeconftest('pytest_plugins = ["flagpipe.testing"]\n')
    pytester.makepyfile(**modules)
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    finally:
        sys.modules.pop("flagpipe_jsonl", None)
    contract_tests = [name for name in vars(CallbackContract) if name.startswith("test_")]
    detector_tests = [name for name in vars(DetectorContract) if name.startswith("test_")]
    # Every contract test but the secrets one (jsonl has no secret), the two plain tests, the detector contract.
    result.assert_outcomes(passed=len(contract_tests) - 1 + 2 + len(detector_tests), skipped=1)
