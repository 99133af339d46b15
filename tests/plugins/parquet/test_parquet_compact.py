"""``flagpipe compact`` merges small shards of past days, keeping every flag exactly once, even when killed."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from flagpipe.cli import cli
from flagpipe.plugins.parquet.compact import compact, plan_name
from flagpipe.plugins.parquet.layout import parse_shard_name
from flagpipe.plugins.parquet.read import read_events
from flagpipe.plugins.parquet.storage import Store

from .helpers import DAY, open_callback, shard_paths, stored_ids, text_event
from .targets import Target

if TYPE_CHECKING:
    from flagpipe import FlagEvent


def _many_small_shards(target: Target, directory: Path, days: int, shards: int, per: int = 3) -> list[FlagEvent]:
    """``shards`` shards of ``per`` flags on each of ``days`` days, plus one shard of today's."""
    callback = open_callback(directory, **target.settings())
    events: list[FlagEvent] = []
    for day in range(days):
        for shard in range(shards):
            batch = [text_event(n, when=DAY + timedelta(days=day, seconds=shard * per + n)) for n in range(per)]
            callback.deliver(batch)
            events += batch
    return events


def test_compact_merges_past_days_only(target: Target, tmp_path: Path) -> None:
    events = _many_small_shards(target, tmp_path, days=2, shards=4)
    store = Store(target.url, target.options)
    before = shard_paths(target.fs, target.root)
    report = compact(store, before="2026-12-01")  # day 0 (11-30) is past, day 1 (12-01) is not
    after = shard_paths(target.fs, target.root)
    assert (report.merged_shards, report.written_shards, report.rows) == (4, 1, 12)
    assert len(after) == len(before) - 3
    [merged] = [p for p in after if "date=2026-11-30" in p]
    _, first, last = parse_shard_name(merged)  # type: ignore[misc]
    names = [parse_shard_name(p) for p in before if "date=2026-11-30" in p]
    assert (first, last) == (min(n[1] for n in names), max(n[2] for n in names))  # type: ignore[index]
    assert stored_ids(target.fs, target.root) == [e.id for e in events]
    assert list(read_events(target.url, target.options)) == events
    assert compact(store, before="2026-12-01").merged_shards == 0  # nothing left to do


def test_a_replay_after_compaction_still_finds_its_flags(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "lake"))
    events = _many_small_shards(target, tmp_path, days=1, shards=3)
    compact(Store(target.url), before="2026-12-31")
    open_callback(tmp_path, **target.settings()).deliver(events[4:])  # a late replay of the lane's old batches
    assert stored_ids(target.fs, target.root) == [e.id for e in events]


def test_an_interrupted_merge_is_finished_or_dropped(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "lake"))
    events = _many_small_shards(target, tmp_path, days=1, shards=3)
    inputs = shard_paths(target.fs, target.root)
    folder = inputs[0].rsplit("/", 1)[0]
    kept = tmp_path / "inputs"
    kept.mkdir()
    for path in inputs:
        shutil.copy(path, kept)
    compact(Store(target.url), before="2026-12-31")
    [output] = [p.rsplit("/", 1)[-1] for p in shard_paths(target.fs, target.root)]
    # the state after a kill between writing the merged shard and removing the shards it holds
    for path in inputs[1:]:
        shutil.copy(kept / path.rsplit("/", 1)[-1], folder)
    plan = {"output": output, "inputs": [p.rsplit("/", 1)[-1] for p in inputs], "rows": len(events)}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    shutil.copy(tmp_path / "plan.json", f"{folder}/{plan_name(output)}")
    assert list(read_events(target.url)) == events  # the reader already treats the merge as done
    report = compact(Store(target.url), before="2026-12-31")
    assert report.finished_plans == 1 and shard_paths(target.fs, target.root) == [f"{folder}/{output}"]
    # the state after a kill before the merged shard was written: the plan is dropped, the merge redone
    Path(f"{folder}/{output}").unlink()
    for path in inputs:
        shutil.copy(kept / path.rsplit("/", 1)[-1], folder)
    shutil.copy(tmp_path / "plan.json", f"{folder}/{plan_name(output)}")
    assert list(read_events(target.url)) == events
    report = compact(Store(target.url), before="2026-12-31")
    assert (report.finished_plans, report.merged_shards) == (1, 3)
    assert stored_ids(target.fs, target.root) == [e.id for e in events]


def test_the_compact_command(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "lake"))
    _many_small_shards(target, tmp_path, days=2, shards=2)
    result = CliRunner().invoke(cli, ["compact", target.url, "--before", "2026-12-31"])
    assert result.exit_code == 0, result.output
    assert "merged 4 shard(s) into 2 (12 flags) in 2 partition(s)" in result.output
    usage = CliRunner().invoke(cli, ["compact"])
    assert usage.exit_code != 0 and "give either URL or --config" in usage.output


def test_the_compact_command_from_a_config(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "flagged" / "lake"))
    _many_small_shards(target, tmp_path / "flagged", days=1, shards=2)
    config = tmp_path / "flagging.yaml"
    config.write_text(f"dir: {tmp_path / 'flagged'}\ncallbacks:\n  - type: parquet\n    url: lake\n")
    result = CliRunner().invoke(cli, ["compact", "--config", str(config), "--before", "2026-12-31"])
    assert result.exit_code == 0, result.output
    assert "merged 2 shard(s) into 1" in result.output


def test_the_compact_command_names_a_missing_bucket(s3: object, tmp_path: Path) -> None:
    endpoint = s3.endpoint  # type: ignore[attr-defined]
    args = ["compact", "s3://not-a-bucket-anywhere/flags", "--storage-option", f"endpoint_url={endpoint}"]
    args += ["--storage-option", "key=k", "--storage-option", "secret=never-shown"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "not-a-bucket-anywhere" in result.output and "never-shown" not in result.output


@pytest.mark.slow
def test_compact_killed_then_rerun_keeps_every_flag_once(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "lake"))
    events = _many_small_shards(target, tmp_path, days=12, shards=6)
    command = [sys.executable, "-m", "flagpipe", "compact", target.url, "--before", "2026-12-31"]
    for kill_after in (1, 4):  # merges finished before the kill; the next one is cut short
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for _ in range(kill_after):
            assert process.stdout.readline().startswith("wrote "), process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        ids = stored_ids(target.fs, target.root)
        assert set(ids) == {e.id for e in events}  # nothing lost at any point
        assert [e.id for e in read_events(target.url)] == [e.id for e in events]  # the reader never sees a repeat
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert "merged" in done.stdout
    ids = stored_ids(target.fs, target.root)
    assert not [i for i, n in Counter(ids).items() if n > 1]
    assert ids == [e.id for e in events]
    assert len(shard_paths(target.fs, target.root)) == 12
    assert not [p for p in target.fs.find(target.root) if "_compact-" in p]
