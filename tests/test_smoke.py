"""A first end-to-end check: the guide's calculator flagged into a CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.csv_log import read_rows

from flagpipe import Flagger

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost


def test_calculator_rows(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(options=["wrong sign", "off by one", "other"], dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"num1": 5, "operation": "add", "num2": 7, "output": -12}, option="wrong sign")
    rows = read_rows(tmp_path / "log.csv")
    assert [r["num1"] for r in rows] == ["5"]
    assert rows[0]["output"] == "-12"
