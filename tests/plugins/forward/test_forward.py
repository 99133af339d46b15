"""The ``flagpipe`` callback against a real collector (``flagpipe serve``) on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from tests.server.conftest import WRITER, collector_config, free_port, start_serve, write_config

import flagpipe
from flagpipe.plugins.forward import ForwardCallback, ForwardSettings
from flagpipe.plugins.forward.callback import classify

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 16


@pytest.fixture(scope="module")
def collector(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """One collector process for the module; yields its URL and its flagging dir."""
    root = tmp_path_factory.mktemp("collector")
    config = write_config(root, collector_config(root, rate_limit={"per_second": 1000, "burst": 1000}))
    port = free_port()
    process = start_serve(config, port)
    try:
        yield f"http://127.0.0.1:{port}", root / "flagged"
    finally:
        process.terminate()
        process.wait(timeout=30)


def collector_rows(directory: Path) -> list[dict[str, str]]:
    """Every row of the collector's CSV logs (a new field set starts a new log file)."""
    rows = []
    for path in sorted(directory.glob("log*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def edge(tmp_path: Path, url: str, key: str = WRITER, **settings) -> flagpipe.Flagger:
    return flagpipe.Flagger(
        options=["wrong sign", ["Off by one", "off_by_one"]],
        dir=tmp_path / "edge",
        app="edge-app",
        callbacks=[{"type": "flagpipe", "url": url, "key": key, **settings}],
        config={"delivery": {"mode": "inline", "retry": {"attempts": 1}}},
    )


def test_flags_reach_the_collector_with_their_files_and_details(tmp_path, collector):
    url, directory = collector
    with edge(tmp_path, url) as flagger:
        receipt = flagger.flag(
            {"tag": f"files-{tmp_path.name}", "shot": PNG}, option="off_by_one", username="ada", metadata={"m": 1}
        )
        assert receipt.delivered == ("flagpipe",)
    [row] = [r for r in collector_rows(directory) if r["tag"] == f"files-{tmp_path.name}"]
    assert row["flag"] == "off_by_one" and row["username"] == "ada"
    assert (directory / row["shot"]).read_bytes() == PNG


def test_chat_files_travel_inline_to_a_collector_that_declares_the_chat(tmp_path):
    """The collector cannot read the edge's files: a chat message's file goes with the flag, as base64."""
    from flagpipe.core.kinds import FileUpload

    root = tmp_path / "collector"
    root.mkdir()
    config = collector_config(root)
    config["fields"] = [{"name": "conversation", "kind": "chat"}]
    port = free_port()
    process = start_serve(write_config(root, config), port)
    chat = [flagpipe.FieldSpec("conversation", kind="chat")]
    try:
        with flagpipe.Flagger(
            dir=tmp_path / "edge",
            fields=chat,
            callbacks=[{"type": "flagpipe", "url": f"http://127.0.0.1:{port}", "key": WRITER}],
            config={"delivery": {"mode": "inline", "retry": {"attempts": 1}}},
        ) as flagger:
            messages = [{"role": "user", "content": ["look at this", FileUpload(PNG, "shot.png", "image/png")]}]
            receipt = flagger.flag({"conversation": messages})
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert receipt.delivered == ("flagpipe",), receipt.failed
    (row,) = collector_rows(root / "flagged")
    part = json.loads(row["conversation"])[0]["content"][1]
    assert part["type"] == "file" and part["file"]["original_name"] == "shot.png"
    assert (root / "flagged" / part["file"]["path"]).read_bytes() == PNG


def test_a_replayed_batch_is_stored_once(tmp_path, collector):
    url, directory = collector
    callback = ForwardCallback(ForwardSettings(url=url, key=WRITER))
    events = [
        flagpipe.FlagEvent(fields=[flagpipe.FieldValue(name="tag", value=f"replay-{tmp_path.name}-{i}")])
        for i in range(3)
    ]
    callback.setup(flagpipe.FlagSchema([]), tmp_path)
    try:
        callback.deliver(events)
        callback.deliver(events)  # a replay after a lost answer
        callback.deliver(events[1:])
    finally:
        callback.close()
    tags = [r["tag"] for r in collector_rows(directory) if r["tag"].startswith(f"replay-{tmp_path.name}")]
    assert sorted(tags) == [f"replay-{tmp_path.name}-{i}" for i in range(3)]


def test_a_wrong_key_is_permanent_and_the_flag_stays_a_dead_letter(tmp_path, collector):
    url, _ = collector
    with edge(tmp_path, url, key="not-a-key-0123456789") as flagger:
        receipt = flagger.flag({"tag": "refused"})
        assert "HTTP 401" in receipt.failed["flagpipe"]
        [dead] = flagger.journal.dead_letters("flagpipe")
        assert dead.event_id == receipt.id and "not-a-key" not in dead.error


def test_an_unreachable_collector_is_retryable(tmp_path):
    callback = ForwardCallback(ForwardSettings(url=f"http://127.0.0.1:{free_port()}", key=WRITER, timeout=2))
    callback.setup(flagpipe.FlagSchema([]), tmp_path)
    try:
        with pytest.raises(flagpipe.RetryableError, match="could not reach"):
            callback.deliver([flagpipe.FlagEvent()])
        with pytest.raises(flagpipe.RetryableError):
            callback.healthcheck()
    finally:
        callback.close()


def test_healthcheck_asks_readyz(tmp_path, collector):
    callback = ForwardCallback(ForwardSettings(url=collector[0] + "/", key=WRITER))
    try:
        assert callback.healthcheck() == f"{collector[0]} ready"
        assert WRITER not in repr(callback) and WRITER not in str(callback.settings)
    finally:
        callback.close()


def _response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_and_429_are_retryable_with_retry_after(status):
    with pytest.raises(flagpipe.RetryableError) as caught:
        classify(_response(status, {}, {"Retry-After": "7"}), "http://c")
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("status", [401, 403, 413, 422])
def test_auth_and_validation_errors_are_permanent(status):
    with pytest.raises(flagpipe.PermanentError):
        classify(_response(status, {"message": "no"}), "http://c")


def test_refused_batch_items_fail_the_batch():
    ok = {"status": 202, "flag": {"id": "a"}}
    with pytest.raises(flagpipe.PermanentError, match="flag 1 of the batch: 422"):
        classify(_response(200, {"items": [ok, {"status": 422, "message": "bad option"}]}), "http://c")
    with pytest.raises(flagpipe.RetryableError) as caught:
        limited = {"items": [ok, {"status": 429, "message": "slow down"}]}
        classify(_response(200, limited, {"Retry-After": "7"}), "http://c")
    assert caught.value.retry_after == 7
    classify(_response(200, {"items": [ok]}), "http://c")


def test_settings_need_an_http_url():
    with pytest.raises(ValueError, match="http"):
        ForwardSettings(url="ftp://x", key=WRITER)
