"""The README's demo runs and says where each flag went."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.csv_log import read_rows

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_calculator_demo(tmp_path: Path) -> None:
    demo = tmp_path / "calculator"
    shutil.copytree(EXAMPLES / "calculator", demo, ignore=shutil.ignore_patterns("flagged"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, str(demo / "flag_calculator.py")], capture_output=True, text=True, env=env, check=True
    )
    assert "flagged as 'wrong sign'" in result.stdout and "on its way to csv" in result.stdout
    assert "csv: 2 delivered, 0 pending, 0 dead" in result.stdout
    rows = read_rows(demo / "flagged" / "log.csv")
    assert [(r["num1"], r["output"], r["flag"]) for r in rows] == [
        ("5", "-12", "wrong sign"),
        ("6", "5.5", "off by one"),
    ]
