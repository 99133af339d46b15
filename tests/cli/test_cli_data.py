"""flagpipe export and flagpipe stats."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from tests.data.conftest import build_journal

from flagpipe import read_flags
from flagpipe.cli import cli

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    build_journal(tmp_path / "flagged", 120)
    path = tmp_path / "flagging.yaml"
    path.write_text(
        "version: 1\ndir: flagged\noptions: [wrong sign, off by one, other]\ncallbacks: []\n", encoding="utf-8"
    )
    return path


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export(config: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(
        cli, ["export", "--config", str(config), "--format", fmt, "--option", "other", "-o", str(out), "--progress"]
    )
    assert result.exit_code == 0, result.output
    expected = read_flags(tmp_path / "flagged", options=["other"])
    assert f"exported {len(expected)} flags" in result.output
    assert read_flags(out)["id"].tolist() == expected["id"].tolist()


def test_export_since_and_errors(config: Path, tmp_path: Path) -> None:
    frame = read_flags(tmp_path / "flagged")
    since = frame["timestamp"].iloc[100].isoformat()
    out = tmp_path / "late.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "-c", str(config), "--format", "jsonl", "--since", since, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 20
    bad = runner.invoke(cli, ["export", "-c", str(config), "--since", "yesterday", "-o", str(out)])
    assert bad.exit_code == 1 and "ISO 8601" in bad.output
    embed = runner.invoke(cli, ["export", "-c", str(config), "--format", "csv", "--embed-files", "-o", str(out)])
    assert embed.exit_code == 1 and "parquet" in embed.output


def test_stats(config: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "--config", str(config)])
    assert result.exit_code == 0, result.output
    for text in ("120 flags", "by option", "by day", "by user", "latest 5", "wrong sign", "(anonymous)", "user1"):
        assert text in result.output
    data = json.loads(runner.invoke(cli, ["stats", "-c", str(config), "--json", "-n", "2"]).output)
    assert data["total"] == 120
    assert {row["option"]: row["count"] for row in data["by_option"]}[None] == 12
    assert sum(row["count"] for row in data["by_user"]) == 120
    assert len(data["latest"]) == 2


def test_stats_without_flags(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("version: 1\ndir: flagged\ncallbacks: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", "--config", str(config)])
    assert result.exit_code == 1 and "no flags yet" in result.output
