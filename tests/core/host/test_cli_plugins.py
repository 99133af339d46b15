"""``flagpipe plugins`` and plugins' commands, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner

import flagpipe
from flagpipe.cli import cli

if TYPE_CHECKING:
    from pathlib import Path

MISSING_DEPENDENCY = "ModuleNotFoundError: No module named 'fptest_missing_dependency'"


def _plugins_json(*args: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(cli, [*args, "plugins", "--json"])
    assert result.exit_code == 0, result.output
    return {r["name"]: r for r in json.loads(result.stdout)}


def test_plugins_json_lists_every_plugin_with_its_status(plugin_site: Path) -> None:
    records = _plugins_json("--block-plugin", "fptest-blocked")
    assert set(records) == {"fptest-good", "fptest-blocked", "fptest-importerror", "fptest-typo"}
    assert records["fptest-good"] == {
        "name": "fptest-good",
        "distribution": "flagpipe-testplugins",
        "version": "1.0",
        "builtin": False,
        "status": "loaded",
        "error": None,
        "hooks": ["flagpipe_register_callbacks", "flagpipe_register_commands", "flagpipe_register_value_kinds"],
        "callback_types": ["testsink"],
        "value_kinds": ["fptest.point"],
        "detectors": [],
    }
    blocked = records["fptest-blocked"]
    assert (blocked["distribution"], blocked["version"], blocked["status"], blocked["error"]) == (
        "flagpipe-testplugins",
        "1.0",
        "blocked",
        None,
    )
    assert blocked["hooks"] == []
    failed = records["fptest-importerror"]
    assert (failed["distribution"], failed["version"], failed["status"], failed["error"]) == (
        "flagpipe-testplugins-broken",
        "0.3",
        "failed",
        MISSING_DEPENDENCY,
    )
    typo = records["fptest-typo"]
    assert typo["status"] == "failed"
    assert "unknown hook 'flagpipe_register_calbacks'" in typo["error"]


def test_plugins_json_hides_builtins_unless_all(plugin_site: Path) -> None:
    assert not any(r["builtin"] for r in _plugins_json().values())
    result = CliRunner().invoke(cli, ["plugins", "--all", "--json"])
    records = {r["name"]: r for r in json.loads(result.stdout)}
    csv = records["flagpipe.plugins.csv"]
    assert (csv["builtin"], csv["distribution"], csv["version"], csv["status"]) == (
        True,
        "flagpipe",
        flagpipe.__version__,
        "loaded",
    )
    assert csv["callback_types"] == ["csv"]
    assert csv["hooks"] == ["flagpipe_register_callbacks"]


def test_plugins_table_shows_status_errors_and_conflicts(conflict_site: Path) -> None:
    result = CliRunner().invoke(cli, ["plugins"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "fptest-good" in out
    assert "testsink" in out
    assert f"failed: {MISSING_DEPENDENCY}" in out
    assert "built-in plugins hidden" in out
    assert "conflict: callback type 'testsink' is provided by both" in out
    assert "flagpipe-testplugins-dup 2.0 (fptest-dup)" in out


def test_plugins_json_in_a_subprocess(plugin_site: Path) -> None:
    """The installed ``python -m flagpipe`` discovers the site through PYTHONPATH alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = subprocess.run(
        [sys.executable, "-m", "flagpipe", "--block-plugin", "fptest-blocked", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status = {r["name"]: r["status"] for r in json.loads(result.stdout)}
    assert status == {
        "fptest-good": "loaded",
        "fptest-blocked": "blocked",
        "fptest-importerror": "failed",
        "fptest-typo": "failed",
    }


def test_entry_point_plugin_adds_a_command(plugin_site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["fptest-hello"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello from fptest-good\n"
    listed = runner.invoke(cli, ["--help"])
    assert "fptest-hello" in listed.stdout


def test_blocked_plugin_adds_no_command(plugin_site: Path) -> None:
    before = dict(cli.commands)
    assert CliRunner().invoke(cli, ["fptest-hello"]).exit_code == 0  # one run in this process loads it
    assert cli.commands == before  # plugin commands live per invocation, never in the group itself
    result = CliRunner().invoke(cli, ["--block-plugin", "fptest-good", "fptest-hello"])
    assert result.exit_code == 2
    assert "No such command 'fptest-hello'" in result.stderr
