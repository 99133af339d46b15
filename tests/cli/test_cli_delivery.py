"""status, retry, drain and purge on a real flagging directory, through the real CLI."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

from click.testing import CliRunner
from tests.csv_log import read_rows

from flagpipe.cli import cli

if TYPE_CHECKING:
    from pathlib import Path

CONFIG = textwrap.dedent(
    """\
    dir: flags
    delivery:
      mode: inline
      retry: {attempts: 1}
    callbacks:
      - type: csv
      - type: csv
        name: broken
        file_name: other.csv
    """
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"})
    return result.exit_code, result.output


def test_status_retry_drain_purge(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    flags = tmp_path / "flags"
    (flags / "other.csv").mkdir(parents=True)  # a fault: the second CSV cannot be written
    code, output = run("status", "-c", str(config))
    assert code == 1 and "no flags yet" in output

    for n in (1, 2):
        code, output = run("flag", "-c", str(config), "-f", f"n={n}")
        assert code == 1 and "delivered to csv" in output and "failed broken" in output.replace("  ", " ")

    code, output = run("status", "-c", str(config), "--json")
    assert code == 0
    lanes = {lane["name"]: lane for lane in json.loads(output)["callbacks"]}
    assert json.loads(output)["events"] == 2
    assert lanes["csv"]["delivered"] == 2 and lanes["csv"]["dead"] == 0
    assert lanes["broken"]["dead"] == 2 and lanes["broken"]["delivered"] == 0
    assert (
        "cannot write the CSV log" in lanes["broken"]["last_error"]
        and "Is a directory" in lanes["broken"]["last_error"]
    )
    code, output = run("status", "-c", str(config))
    assert code == 0 and "broken" in output and "cannot" in output

    (flags / "other.csv").rmdir()  # the fault is fixed
    code, output = run("retry", "-c", str(config), "--callback", "nope")
    assert code == 1 and "no callback 'nope'" in output
    code, output = run("retry", "-c", str(config), "--callback", "broken")
    assert code == 0 and "re-queued 2" in output
    code, output = run("drain", "-c", str(config))
    assert code == 0, output
    assert [r["n"] for r in read_rows(flags / "other.csv")] == ["1", "2"]
    assert [r["n"] for r in read_rows(flags / "log.csv")] == ["1", "2"]
    code, output = run("status", "-c", str(config), "--json")
    lanes = {lane["name"]: lane for lane in json.loads(output)["callbacks"]}
    assert lanes["broken"]["dead"] == 0 and lanes["broken"]["delivered"] == 2 and lanes["broken"]["pending"] == 0

    code, output = run("purge", "-c", str(config), "--older-than", "0s", "--dry-run")
    assert code == 0 and "would remove 2 event(s)" in output
    code, output = run("purge", "-c", str(config), "--older-than", "0s")
    assert code == 0 and "removed 2 event(s)" in output
    code, output = run("status", "-c", str(config), "--json")
    assert json.loads(output)["events"] == 0
    assert len(read_rows(flags / "log.csv")) == 2  # purging the journal never touches what sinks hold
    code, output = run("purge", "-c", str(config), "--older-than", "soon")
    assert code == 1 and "age 'soon'" in output


def test_drain_delivers_what_is_pending(tmp_path: Path) -> None:
    from flagpipe import Flagger

    config = tmp_path / "flagging.yaml"
    config.write_text("dir: flags\ncallbacks: []\n", encoding="utf-8")
    with Flagger.from_yaml(config) as flagger:  # flags are kept in the journal, delivered nowhere
        for n in range(3):
            flagger.flag({"n": n})
    # a callback joins the chain: every flag already in the journal is pending for it
    config.write_text("dir: flags\ncallbacks: [csv]\n", encoding="utf-8")
    code, output = run("status", "-c", str(config), "--json")
    assert json.loads(output)["callbacks"][0]["pending"] == 3
    code, output = run("drain", "-c", str(config))
    assert code == 0, output
    assert "csv: 0 pending" in output
    assert [r["n"] for r in read_rows(tmp_path / "flags" / "log.csv")] == ["0", "1", "2"]
