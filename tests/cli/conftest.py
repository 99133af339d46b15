"""Fixtures for CLI tests: a wide, colourless terminal, a runner, and a calculator config."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from flagpipe.cli import cli

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CALCULATOR_CONFIG = textwrap.dedent(
    """\
    version: 1
    mode: manual
    options: [wrong sign, off by one, other]
    dir: flagged
    app: calculator
    callbacks:
      - type: csv
        file_name: log.csv
    """
)


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich output without colour codes, and wide enough that table cells stay on one line."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``flagpipe ARGS...`` in-process, in the test's folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), prog_name="flagpipe", catch_exceptions=False)

    return invoke


@pytest.fixture
def calculator(tmp_path: Path) -> Path:
    """A config for the guide's calculator; flags go to ``<tmp>/flagged``."""
    path = tmp_path / "calc.yaml"
    path.write_text(CALCULATOR_CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def at(run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``flagpipe ARGS...`` in a terminal ``width`` columns wide."""

    def invoke(width: int, *args: str) -> Result:
        monkeypatch.setenv("COLUMNS", str(width))
        return run(*args)

    return invoke


def assert_fits(text: str, width: int, *whole: str) -> None:
    """No line longer than ``width``, except one that holds one of ``whole`` (a path printed whole)."""
    for line in text.splitlines():
        assert len(line) <= width or any(w in line for w in whole), f"{len(line)} > {width}: {line!r}"
