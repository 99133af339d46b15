"""Replicas into one bucket, and a replica SIGKILLed mid-delivery then restarted: every flag once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.plugins.replica import start_replica

from flagpipe.core.journal import Journal
from flagpipe.plugins.parquet.layout import parse_shard_name
from flagpipe.plugins.parquet.read import read_events

from .helpers import shard_paths, stored_ids
from .targets import Target

if TYPE_CHECKING:
    from .conftest import S3

pytestmark = pytest.mark.slow

PER_REPLICA = 300


def start(directory: Path, worker: str, settings: dict[str, object]) -> subprocess.Popen[str]:
    return start_replica(directory, PER_REPLICA, worker, {"type": "parquet", **settings}, {"poll_interval": 0.02})


def finish(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and out.rstrip().endswith("DONE"), err[-3000:]


def journal_ids(directory: Path) -> list[str]:
    journal = Journal(directory)
    try:
        return [event.id for _, event in journal.iter_events()]
    finally:
        journal.close()


def _settings(target: Target) -> dict[str, object]:
    return target.settings(commit_every=0.05, commit_max_events=20, partition_by=["date", "app"])


def test_a_replica_killed_mid_delivery_replays_into_the_same_objects(s3: S3, bucket: str, tmp_path: Path) -> None:
    target = Target(f"s3://{bucket}/flags/", s3.options())
    directory = tmp_path / "replica"
    victim = start(directory, "r0", _settings(target))
    deadline = time.monotonic() + 60
    while len(shard_paths(target.fs, target.root)) < 3 and time.monotonic() < deadline:  # killed mid-delivery
        assert victim.poll() is None, victim.communicate()[1][-3000:]
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    at_kill = shard_paths(target.fs, target.root)
    assert len(at_kill) >= 3, "the replica wrote nothing before the kill"
    assert len(stored_ids(target.fs, target.root)) < PER_REPLICA, "the replica had delivered everything already"
    finish(start(directory, "r0", _settings(target)))
    after = shard_paths(target.fs, target.root)
    assert set(at_kill) <= set(after)  # a replayed batch rewrote its object; none was written twice
    stored = stored_ids(target.fs, target.root)
    assert not [i for i, n in Counter(stored).items() if n > 1], "a flag is stored twice"
    assert sorted(stored) == sorted(journal_ids(directory))
    assert len(stored) == PER_REPLICA
    assert len(list(read_events(target.url, target.options, apps=["replicas"]))) == PER_REPLICA


def test_two_replicas_write_into_one_bucket(s3: S3, bucket: str, tmp_path: Path) -> None:
    target = Target(f"s3://{bucket}/flags/", s3.options())
    dirs = [tmp_path / "one", tmp_path / "two"]
    processes = [start(d, f"r{n}", _settings(target)) for n, d in enumerate(dirs)]
    for process in processes:
        finish(process)
    stored = stored_ids(target.fs, target.root)
    assert len(stored) == len(set(stored)) == 2 * PER_REPLICA
    assert set(stored) == {i for d in dirs for i in journal_ids(d)}
    lanes = {parse_shard_name(p)[0] for p in shard_paths(target.fs, target.root)}  # type: ignore[index]
    assert lanes == {(d / ".flagpipe/parquet-lane").read_text().strip() for d in dirs}
    back = list(read_events(target.url, target.options))
    assert sorted(e.id for e in back) == sorted(stored)
    assert [(e.created_at, e.id) for e in back] == sorted((e.created_at, e.id) for e in back)
