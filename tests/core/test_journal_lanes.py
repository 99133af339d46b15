"""Several configs on one flagging dir: purges keep what any lane still owes; one name, one destination."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from flagpipe import Flagger
from flagpipe.cli import cli
from flagpipe.core.journal import Journal, LaneConflictError
from flagpipe.core.retention import purge

from .http_sink import PostPlugin, Sink, running_sink

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flagpipe.core.host import PluginHost


@pytest.fixture
def down_sink(plugins: PluginHost) -> Iterator[tuple[PluginHost, Sink]]:
    with running_sink() as sink, plugins.registered(PostPlugin(), name="test-post"):
        sink.default_status = 503
        yield plugins, sink


def blue(directory: Path, sink: Sink) -> dict[str, Any]:
    """Config A: a CSV log and a webhook that is down."""
    return {
        "dir": str(directory),
        "callbacks": ["csv", {"type": "test_post", "url": sink.url}],
        "delivery": {"mode": "inline", "grace": 0, "retry": {"attempts": 100, "initial_delay": 60, "max_delay": 60}},
    }


def green(directory: Path, **extra: Any) -> dict[str, Any]:
    """Config B: only the CSV log."""
    return {"dir": str(directory), "callbacks": ["csv"], "delivery": {"mode": "inline"}, **extra}


def test_another_configs_purge_keeps_what_a_lane_has_not_delivered(
    tmp_path: Path, down_sink: tuple[PluginHost, Sink]
) -> None:
    plugins, sink = down_sink
    with Flagger(blue(tmp_path, sink), plugins=plugins) as flagger:
        ids = [flagger.flag({"n": n}).id for n in range(5)]
    # config B, in the API, through retention at start, and through `flagpipe purge -c`
    with Flagger(green(tmp_path), plugins=plugins) as other:
        assert other.purge(timedelta(0)).events == 0
    with Flagger(green(tmp_path, retention={"max_age_days": 1e-9}), plugins=plugins) as other:
        assert other.journal is not None and other.journal.count() == 5
    config = tmp_path / "green.yaml"
    config.write_text(f"dir: {tmp_path}\ncallbacks: [csv]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["purge", "-c", str(config), "--older-than", "0s", "--json"])
    assert result.exit_code == 0, result.output
    assert '"events": 0' in result.output
    # once A's webhook has delivered them, anyone's purge may remove them
    sink.default_status = 200
    with Flagger(blue(tmp_path, sink), plugins=plugins) as flagger:
        flagger.drain()
    assert sink.ids() == ids
    with Flagger(green(tmp_path), plugins=plugins) as other:
        assert other.purge(timedelta(0)).events == 5


def test_purge_counts_every_lane_in_the_journal_whatever_it_is_told(tmp_path: Path) -> None:
    with Flagger(green(tmp_path)) as flagger:
        flagger.flag({"n": 1})
        journal = flagger.journal
        assert journal is not None
        journal.ensure_lanes(["gone-sink"])  # a lane another config made, which never delivered
        for lanes in ((), ("csv",), ("csv", "gone-sink")):
            assert purge(journal, tmp_path, older_than=timedelta(0), lanes=lanes, dry_run=True).events == 0
        assert journal.forget_lane("gone-sink")
        assert purge(journal, tmp_path, older_than=timedelta(0), lanes=("csv",)).events == 1


def csv_to(directory: Path, file_name: str, name: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "csv", "file_name": file_name}
    if name:
        entry["name"] = name
    return {"dir": str(directory), "callbacks": [entry], "delivery": {"mode": "inline"}}


@pytest.mark.parametrize(
    "other",
    [
        {"file_name": "b.csv"},
        {"file_name": "a.csv", "id_column": False},
    ],
)
def test_one_lane_name_with_two_settings_is_refused_while_both_run(tmp_path: Path, other: dict[str, Any]) -> None:
    with Flagger(csv_to(tmp_path, "a.csv")) as first:
        first.flag({"n": 1})
        config = {"dir": str(tmp_path), "callbacks": [{"type": "csv", **other}], "delivery": {"mode": "inline"}}
        with pytest.raises(LaneConflictError, match=r"callback 'csv' is already delivered from .* with other settings"):
            Flagger(config)
        # the same settings are welcome (several workers of one app), and so is another name
        with Flagger(csv_to(tmp_path, "a.csv")) as twin:
            twin.flag({"n": 2})
        with Flagger(csv_to(tmp_path, "b.csv", name="csv-b")) as renamed:
            renamed.flag({"n": 3})
    # once the first has closed, the settings may change (a new deploy)
    with Flagger(csv_to(tmp_path, "b.csv")) as changed:
        changed.flag({"n": 4})


HOLDER = """
import sys, time
from flagpipe import Flagger
flagger = Flagger({"dir": sys.argv[1], "callbacks": [{"type": "csv", "file_name": "a.csv"}]})
print("open", flush=True)
time.sleep(600)
"""


def test_a_conflicting_process_is_detected_and_a_dead_one_is_not(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(LaneConflictError, match=r"by process"):
            Flagger(csv_to(tmp_path, "b.csv"))
    finally:
        holder.kill()
        holder.wait(60)
    with Flagger(csv_to(tmp_path, "b.csv")) as flagger:  # the holder died without closing
        flagger.flag({"n": 1})
    journal = Journal(tmp_path)
    try:
        assert journal.lane("csv").done_seq == 1
    finally:
        journal.close()
