"""End to end: ``python -m flagpipe`` in a child process, as a user runs it."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def flagpipe(*args: str, cwd: Path, terminal: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``python -m flagpipe ARGS``; ``terminal=False`` leaves the width and colour to a plain pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", *(() if terminal else ("COLUMNS", "NO_COLOR"))):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "flagpipe", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands(tmp_path) -> None:
    result = flagpipe("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: flagpipe [OPTIONS] COMMAND")
    for command in ("init", "check", "plugins", "schema", "flag", "show"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert "--no-plugin-autoload" in result.stdout


def test_version(tmp_path) -> None:
    from flagpipe import __version__

    result = flagpipe("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"flagpipe, version {__version__}"


def test_init_check_flag_show(tmp_path) -> None:
    assert flagpipe("init", cwd=tmp_path).returncode == 0
    checked = flagpipe("check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "flagging.yaml: valid" in checked.stdout

    args = ["--field", "num1=5", "--field", "operation=add", "--field", "num2=7", "--field", "output=-12"]
    flagged = flagpipe("flag", *args, "--option", "wrong sign", "--username", "alice", cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    (event_id,) = ID.findall(flagged.stdout)
    assert "delivered to csv" in flagged.stdout

    with (tmp_path / "flagged" / "log.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["output"], row["flag"], row["username"], row["id"]) == ("-12", "wrong sign", "alice", event_id)

    shown = flagpipe("show", "-n", "2", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert event_id[:8] in shown.stdout
    assert event_id not in shown.stdout  # short in a table
    assert "output=-12" in shown.stdout
    as_json = flagpipe("show", "-n", "2", "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert [flag["id"] for flag in json.loads(as_json.stdout)["flags"]] == [event_id]


def test_bad_config_fails_without_a_traceback(tmp_path) -> None:
    (tmp_path / "flagging.yaml").write_text("version: 1\nmode: sometimes\n", encoding="utf-8")
    result = flagpipe("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "flagging.yaml:2 mode: " in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_is_json(tmp_path) -> None:
    result = flagpipe("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "csv" in {
        v.get("properties", {}).get("type", {}).get("const")
        for v in json.loads(result.stdout)["properties"]["callbacks"]["items"]["oneOf"]
    }


def test_a_pipe_gets_80_columns_and_no_colour_codes(tmp_path) -> None:
    (tmp_path / "flagging.yaml").write_text(
        "dir: flagged\ncallbacks:\n  - type: csv\n  - type: csv\n    name: slack_alerts_for_the_oncall_team\n",
        encoding="utf-8",
    )
    text = "why the model was wrong, " * 10
    flagged = flagpipe("flag", "-f", f"explanation={text}", "-u", "alexandra_the_reviewer", cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    (event_id,) = ID.findall(flagged.stdout)
    for command in ("status", "show", "stats", "check"):
        result = flagpipe(command, cwd=tmp_path, terminal=False)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if str(tmp_path) not in line]
        assert lines, command
        assert max(len(line) for line in lines) <= 80, command
        assert "\x1b" not in result.stdout
        assert event_id not in result.stdout
        if command in ("status", "check"):
            assert "slack_alerts_for_the_oncall_team" in result.stdout
        else:
            assert event_id[:8] in result.stdout
            assert "alexandra_the_reviewer" in result.stdout
