"""The hf_dataset callback with the real huggingface_hub client, over HTTP, against a test Hub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest
from huggingface_hub import hf_hub_download

import flagpipe
from flagpipe import Flagger
from flagpipe.core.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from .hub import Hub

PNG = b"\x89PNG\r\n\x1a\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "
REPO = "alice/calculator-flags"


def config(directory: Path, hub: Hub, token: str = "hf_good_token", **settings: Any) -> dict[str, Any]:
    item = {"type": "hf_dataset", "repo_id": REPO, "token": token, "endpoint": hub.url, "commit_every": 5, **settings}
    return {"dir": str(directory), "options": ["wrong sign", "other"], "callbacks": [item], "delivery": {"grace": 60}}


def shards(hub: Hub, repo: str = REPO) -> list[Any]:
    """Every shard on the Hub, downloaded with the real client."""
    tables = []
    for path in sorted(p for p in hub.files(repo) if p.endswith(".parquet")):
        local = hf_hub_download(repo, path, repo_type="dataset", endpoint=hub.url, token="hf_good_token")
        tables.append(pq.read_table(local))
    return tables


def hub_ids(hub: Hub, repo: str = REPO) -> list[str]:
    return [i for table in shards(hub, repo) for i in table.column("id").to_pylist()]


def test_batched_commits_typed_shards_and_files_back_byte_for_byte(tmp_path: Path, hub: Hub) -> None:
    with Flagger(config(tmp_path, hub, commit_max_events=25)) as flagger:
        receipts = [
            flagger.flag(
                {"num1": n, "image": PNG + bytes([n]) * 50, "audio": WAV + bytes([n]) * 20, "note": f"n={n}"},
                option="wrong sign" if n % 2 else "other",
                username="alice",
            )
            for n in range(100)
        ]
    data_commits = hub.data_commits(REPO)
    assert 1 <= len(data_commits) <= 4
    assert hub.lfs, "the shards (binary) went through the LFS batch API, as on the Hub"
    tables = shards(hub)
    rows = [row for table in tables for row in table.to_pylist()]
    assert sorted(r["id"] for r in rows) == sorted(r.id for r in receipts)
    by_id = {r["id"]: r for r in rows}
    for n, receipt in enumerate(receipts):
        row = by_id[receipt.id]
        assert row["num1"] == n and row["note"] == f"n={n}" and row["username"] == "alice"
        assert row["option"] == ("wrong sign" if n % 2 else "other")
        assert row["image"]["bytes"] == PNG + bytes([n]) * 50
        assert row["audio"]["bytes"] == WAV + bytes([n]) * 20
        assert row["timestamp"].tzinfo is not None
    features = json.loads(tables[0].schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"} and features["audio"] == {"_type": "Audio"}
    assert features["num1"] == {"dtype": "float64", "_type": "Value"}
    card = hub.files(REPO)["README.md"].decode()
    assert card.startswith("---\nconfigs:") and "data/schema-" in card and "*.parquet" in card
    assert hub.repo(REPO).private


def test_files_of_other_kinds_are_stored_once_by_content(tmp_path: Path, hub: Hub) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 the same document")
    with Flagger(config(tmp_path / "flags", hub)) as flagger:
        flagger.setup([flagpipe.FieldSpec("doc", kind="file"), flagpipe.FieldSpec("n", kind="number")])
        for n in range(3):
            flagger.flag({"doc": pdf, "n": n})
    stored = [p for p in hub.files(REPO) if p.startswith("data/files/")]
    assert len(stored) == 1 and stored[0].endswith(".pdf")
    assert hub.files(REPO)[stored[0]] == pdf.read_bytes()
    assert {row["doc"] for table in shards(hub) for row in table.to_pylist()} == {stored[0]}


def test_a_wrong_token_is_a_clear_error_and_flags_wait_for_the_right_one(tmp_path: Path, hub: Hub) -> None:
    bad = config(tmp_path, hub, token="hf_wrong")
    bad["delivery"] = {"mode": "inline", "grace": 5}
    with Flagger(bad) as flagger:
        receipt = flagger.flag({"n": 1})  # held for a batch; close() tries to deliver it
    journal = Journal(tmp_path)
    status = {s.name: s for s in journal.status()}["hf_dataset"]
    journal.close()
    assert "rejected the token" in (status.last_error or "") and status.pending == 1 and status.dead == 0
    assert "hf_wrong" not in (status.last_error or "")
    with Flagger(config(tmp_path, hub)) as fixed:
        assert fixed.flush(60)
    assert hub_ids(hub) == [receipt.id]


def test_no_write_access_to_an_organisation_says_so(hub: Hub) -> None:
    from flagpipe.plugins.hf_dataset import HFDatasetCallback, HFDatasetSettings

    def callback(token: str) -> HFDatasetCallback:
        settings = {"repo_id": "acme/flags", "token": token, "endpoint": hub.url}
        return HFDatasetCallback(HFDatasetSettings.model_validate(settings))

    with pytest.raises(flagpipe.RetryableError, match="user 'bob' has no write access to 'acme'"):
        callback("hf_bob_token").healthcheck()
    assert "writable" in (callback("hf_good_token").healthcheck() or "")


def test_a_model_repo_with_that_name_says_what_to_do(hub: Hub) -> None:
    from huggingface_hub import HfApi

    from flagpipe.plugins.hf_dataset import HFDatasetCallback, HFDatasetSettings

    HfApi(endpoint=hub.url, token="hf_good_token").create_repo("alice/calculator", repo_type="model")
    settings = {"repo_id": "alice/calculator", "token": "hf_good_token", "endpoint": hub.url}
    callback = HFDatasetCallback(HFDatasetSettings.model_validate(settings))
    with pytest.raises(flagpipe.PermanentError, match="alice/calculator is a model repository, not a dataset"):
        callback.healthcheck()


def test_the_commit_limit_is_retried_later_and_nothing_is_lost(tmp_path: Path, hub: Hub) -> None:
    cfg = config(tmp_path, hub, commit_max_events=5)
    cfg["delivery"] = {"grace": 60, "retry": {"initial_delay": 0.05, "max_delay": 0.2}}
    with Flagger(cfg) as flagger:
        hub.commits_per_hour = 0  # every commit is refused for now
        ids = [flagger.flag({"n": n}).id for n in range(12)]
        deadline = time.monotonic() + 30
        while "rate limit" not in (flagger.journal.lane("hf_dataset").last_error or ""):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no rate-limited attempt"
            time.sleep(0.02)
        hub.commits_per_hour = None
        assert flagger.flush(60)
    assert sorted(hub_ids(hub)) == sorted(ids)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_the_hubs_retry_after_is_passed_on_in_either_form(tmp_path: Path, hub: Hub, form: str) -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    hub.retry_after = "30" if form == "seconds" else format_datetime(later, usegmt=True)
    hub.commits_per_hour = 0
    cfg = config(tmp_path, hub)
    cfg["delivery"] = {"mode": "inline", "grace": 0}
    with Flagger(cfg) as flagger:
        receipt = flagger.flag({"n": 1})
        lane = flagger.journal.lane("hf_dataset")  # type: ignore[union-attr]
    assert "rate limit" in receipt.failed["hf_dataset"]
    assert lane.last_error_at is not None
    assert lane.next_attempt_at - lane.last_error_at == pytest.approx(30, abs=2)


def test_two_replicas_committing_to_one_repo_keep_both_sets(tmp_path: Path, hub: Hub) -> None:
    results: dict[str, list[str]] = {}

    def replica(name: str) -> None:
        cfg = config(tmp_path / name, hub, commit_max_events=3, commit_every=0.05)
        with Flagger(cfg) as flagger:
            results[name] = [flagger.flag({"replica": name, "n": n}).id for n in range(9)]

    threads = [threading.Thread(target=replica, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ids = hub_ids(hub)
    assert sorted(ids) == sorted(results["a"] + results["b"])
    assert len(ids) == len(set(ids)) == 18


CRASH_SCRIPT = """
import sys
from flagpipe import Flagger
directory, url = sys.argv[1], sys.argv[2]
item = {"type": "hf_dataset", "repo_id": "alice/calculator-flags", "token": "hf_good_token", "endpoint": url,
        "commit_every": 0.05, "commit_max_events": 7}
with Flagger({"dir": directory, "callbacks": [item]}) as flagger:
    for n in range(100000):
        print(flagger.flag({"n": n}).id, flush=True)
"""


@pytest.mark.slow
def test_kill_9_during_batches_then_restart_puts_every_flag_on_the_hub_once(tmp_path: Path, hub: Hub) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), hub.url], stdout=subprocess.PIPE, text=True, env=env
        )
        assert process.stdout is not None
        before = len(hub.data_commits(REPO)) if (("dataset", REPO) in hub.repos) else 0
        seen = 0
        while seen < 5000 and process.stdout.readline():  # kill once a commit went through: mid-stream
            seen += 1
            if ("dataset", REPO) in hub.repos and len(hub.data_commits(REPO)) > before and seen > 20:
                break
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    journal = Journal(tmp_path)
    accepted = [event.id for _, event in journal.iter_events()]
    journal.close()
    assert len(hub.data_commits(REPO)) >= 1
    with Flagger(config(tmp_path, hub, commit_max_events=50)) as again:
        assert again.flush(120)
    ids = hub_ids(hub)
    assert len(ids) == len(set(ids)), "a flag reached the Hub twice"
    assert sorted(ids) == sorted(accepted)


def test_settings_are_checked() -> None:
    from flagpipe.plugins.hf_dataset import HFDatasetSettings

    for bad in [
        {"repo_id": "no-namespace"},
        {"repo_id": "a/../b"},
        {"repo_id": "a/b", "path_in_repo": "../x"},
        {"repo_id": "a/b", "commit_every": 0},
        {"repo_id": "a/b", "colour": 1},
    ]:
        with pytest.raises(ValueError):
            HFDatasetSettings.model_validate(bad)
    settings = HFDatasetSettings.model_validate({"repo_id": "a/b", "token": "hf_secret_value", "path_in_repo": "flags"})
    assert settings.path_in_repo == "flags/" and "hf_secret_value" not in repr(settings)


def test_datasets_loads_the_layout_with_image_and_audio_features(
    tmp_path: Path, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    datasets = pytest.importorskip("datasets")
    with Flagger(config(tmp_path / "flags", hub)) as flagger:
        for n in range(5):
            flagger.flag({"num1": n, "image": PNG + bytes([n]), "audio": WAV + bytes([n])}, option="other")
    snapshot = tmp_path / "snapshot"  # the repo's files at head, as snapshot_download would lay them out
    for path, data in hub.files(REPO).items():
        (snapshot / path).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / path).write_bytes(data)
    dataset = datasets.load_dataset(str(snapshot), split="train")
    assert isinstance(dataset.features["image"], datasets.Image)
    assert isinstance(dataset.features["audio"], datasets.Audio)
    assert dataset.features["num1"].dtype == "float64"
    assert dataset.num_rows == 5
    raw = dataset.cast_column("image", datasets.Image(decode=False)).cast_column("audio", datasets.Audio(decode=False))
    assert sorted(row["image"]["bytes"] for row in raw) == sorted(PNG + bytes([n]) for n in range(5))
