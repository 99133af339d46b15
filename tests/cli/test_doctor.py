"""``flagpipe doctor``: finds damage and what holds purges back; --repair rebuilds what is readable."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from tests.core.test_journal_db import PAGE, corrupt, filled
from tests.csv_log import read_rows

from flagpipe import Flagger
from flagpipe.cli import cli
from flagpipe.core.journal import JOURNAL_PATH, Journal

if TYPE_CHECKING:
    from pathlib import Path


def doctor(directory: Path, *args: str) -> tuple[int, dict[str, object]]:
    config = directory / "flagging.yaml"
    config.write_text(f"dir: {directory}\ncallbacks: [csv]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["doctor", "-c", str(config), "--json", *args])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)


def test_a_sound_journal_is_ok(tmp_path: Path) -> None:
    filled(tmp_path, count=3)
    code, report = doctor(tmp_path)
    assert code == 0 and report["ok"] is True and report["problems"] == []


@pytest.mark.parametrize("pages", [(0.5, 2), (0.3, 1), (0.8, 3)])
def test_repair_rebuilds_a_damaged_journal_and_delivery_goes_on_without_duplicates(
    tmp_path: Path, pages: tuple[float, int]
) -> None:
    ids = filled(tmp_path, count=400)
    path = tmp_path / JOURNAL_PATH
    total = path.stat().st_size // PAGE
    start = int(total * pages[0])
    corrupt(path, range(start, start + pages[1]))
    code, report = doctor(tmp_path)
    assert code == 1 and report["damaged"] is True and report["problems"]
    code, report = doctor(tmp_path, "--repair")
    assert code == 0, report
    actions = " ".join(report["actions"])  # type: ignore[arg-type]
    assert "rebuilt" in actions and "kept the damaged file" in actions
    assert list(tmp_path.joinpath(".flagpipe").glob("journal.sqlite3.damaged-*"))
    journal = Journal(tmp_path)
    try:
        kept = [event.id for _, event in journal.iter_events()]
        assert journal.lane("csv").done_seq == 400  # the lane's progress survived
    finally:
        journal.close()
    assert 0 < len(kept) <= len(ids) and set(kept) <= set(ids)
    assert kept == [i for i in ids if i in set(kept)]  # in order
    with Flagger({"dir": str(tmp_path), "callbacks": ["csv"], "delivery": {"mode": "inline"}}) as flagger:
        new = flagger.flag({"n": 1000, "text": "after the repair"})
    assert new.delivered == ("csv",)
    rows = [row["id"] for path in sorted(tmp_path.glob("log*.csv")) for row in read_rows(path)]
    assert rows.count(new.id) == 1 and len(rows) == len(set(rows))  # nothing delivered twice


def test_undecodable_flags_and_unused_lanes_are_reported_and_lanes_can_be_dropped(tmp_path: Path) -> None:
    filled(tmp_path, count=2)
    with sqlite3.connect(tmp_path / JOURNAL_PATH) as db:
        db.execute("INSERT INTO events (id, created_at, body) VALUES ('bad', '2020-01-01T00:00:00+00:00', '{')")
        db.execute("INSERT INTO lanes (name) VALUES ('old-webhook')")
    code, report = doctor(tmp_path)
    assert code == 1
    assert report["undecodable"] == [{"seq": 3, "id": "bad"}]
    assert report["unused_lanes"] == ["old-webhook"]
    config = tmp_path / "flagging.yaml"
    refused = CliRunner().invoke(cli, ["doctor", "-c", str(config), "--forget-lane", "csv"])
    assert refused.exit_code == 1 and "in the config's chain" in refused.output  # a lane in use is never dropped
    code, report = doctor(tmp_path, "--forget-lane", "old-webhook")
    assert report["unused_lanes"] == [] and "dropped lane(s): old-webhook" in report["actions"]  # type: ignore[operator]


def test_doctor_in_text_mode_says_what_to_do(tmp_path: Path) -> None:
    filled(tmp_path, count=50)
    corrupt(tmp_path / JOURNAL_PATH, range(3, 4))
    config = tmp_path / "flagging.yaml"
    config.write_text(f"dir: {tmp_path}\ncallbacks: [csv]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["doctor", "-c", str(config)])
    assert result.exit_code == 1
    assert "flagpipe doctor --repair" in result.output
