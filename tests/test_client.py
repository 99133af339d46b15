"""``flagpipe.client.Client`` against a real collector on 127.0.0.1."""

from __future__ import annotations

import pytest
from tests.server.conftest import READER, WRITER, collector_config, free_port, start_serve, write_config

from flagpipe.client import Client, CollectorError


@pytest.fixture
def collector(tmp_path):
    config = write_config(tmp_path, collector_config(tmp_path))
    port = free_port()
    process = start_serve(config, port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_flag_status_config_and_refusals(collector, tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n1234")
    with Client(collector, WRITER) as client:
        answer = client.flag(
            {"prompt": "2+2"}, files={"shot": shot, "raw": b"abc"}, option="wrong sign", comment="c", metadata={"v": 1}
        )
        assert answer["stored"] and answer["id"]
        again = client.flag({"prompt": "2+2"}, idempotency_key="once")
        assert client.flag({"prompt": "2+2"}, idempotency_key="once") == {**again, "replayed": True}
        with pytest.raises(CollectorError, match="different request"):
            client.flag({"prompt": "other"}, idempotency_key="once")
        assert client.status(answer["id"])["callbacks"][0]["state"] == "delivered"
        assert [o["label"] for o in client.config()["options"]] == ["wrong sign", "Off by one"]
        with pytest.raises(CollectorError, match="HTTP 422") as caught:
            client.flag({}, option="not an option")
        assert caught.value.status == 422 and caught.value.body["problems"][0]["loc"] == ["option"]
    with Client(collector, READER) as reader, pytest.raises(CollectorError, match="HTTP 403"):
        reader.flag({"a": 1})
    stored = list((tmp_path / "flagged" / "shot").rglob("shot.png"))
    assert len(stored) == 1
