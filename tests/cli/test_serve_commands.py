"""``flagpipe serve`` as a real uvicorn process (two workers) over 127.0.0.1, and ``flagpipe hash-key``."""

from __future__ import annotations

import base64

import httpx
import pytest
from tests.server.conftest import BROWSER, ORIGIN, READER, auth, collector_config, free_port, start_serve, write_config

from flagpipe.config.server_model import hash_key
from flagpipe.server.idempotency import IDEMPOTENCY_PATH

LIMITED = "limited-key-0123456789abcdef"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    settings = collector_config(root, rate_limit={"per_second": 1000, "burst": 1000})
    limited = {"id": "limited", "key": LIMITED, "scopes": ["flag"], "rate_limit": {"per_second": 0.001, "burst": 4}}
    settings["server"]["keys"].append(limited)
    config = write_config(root, settings)
    port = free_port()
    process = start_serve(config, port, workers=2)
    try:
        yield f"http://127.0.0.1:{port}", root
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_endpoint_answers_over_http(two_workers):
    url, _ = two_workers
    with httpx.Client(base_url=url, timeout=10) as http:
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()
        one = http.post(
            "/v1/flags",
            json={"values": {"q": "a"}, "files": {"img": {"data": png, "name": "a.png"}}, "option": "wrong sign"},
            headers=auth(),
        )
        assert one.status_code == 202, one.text
        multipart = http.post(
            "/v1/flags", data={"option": "Off by one"}, files={"f": ("b.bin", b"xyz")}, headers=auth()
        )
        assert multipart.status_code == 202
        batch = http.post(
            "/v1/flags/batch", json={"flags": [{"values": {"q": "b"}}, {"values": {"q": "c"}}]}, headers=auth()
        )
        assert batch.json()["accepted"] == 2
        status = http.get(f"/v1/flags/{one.json()['id']}", headers=auth(READER))
        assert status.status_code == 200 and status.json()["callbacks"][0]["callback"] == "csv"
        assert http.get("/v1/config", headers=auth(BROWSER)).json()["options"][1]["value"] == "off_by_one"
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").text == "ready\n"
        assert "flagpipe_request_seconds_bucket" in http.get("/metrics").text
        assert http.get("/openapi.json").json()["info"]["title"] == "flagpipe collector"
        assert http.post("/v1/flags", json={"values": {}}).status_code == 401
        assert http.post("/v1/flags", json={"values": {}}, headers=auth(READER)).status_code == 403
        assert http.post("/v1/flags", json={"values": {}, "option": "?"}, headers=auth()).status_code == 422
        preflight = http.options("/v1/flags/batch", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "server" not in one.headers  # uvicorn's banner is off


def test_an_idempotency_key_is_shared_by_both_workers(two_workers):
    url, root = two_workers
    ids = set()
    for _ in range(6):  # new connections: the kernel spreads them over the workers
        with httpx.Client(base_url=url, timeout=10) as http:
            answer = http.post("/v1/flags", json={"values": {"k": 1}}, headers={**auth(), "Idempotency-Key": "shared"})
            ids.add(answer.json()["id"])
    assert len(ids) == 1
    assert (root / "flagged" / IDEMPOTENCY_PATH).exists()


def test_both_workers_share_one_rate_limit(two_workers):
    url, _ = two_workers
    statuses = []
    for _ in range(12):  # new connections: the kernel spreads them over the workers
        with httpx.Client(base_url=url, timeout=10) as http:
            statuses.append(http.post("/v1/flags", json={"values": {}}, headers=auth(LIMITED)).status_code)
    assert statuses.count(202) == 4 and statuses.count(429) == 8


def accepted_total(http: httpx.Client) -> float:
    """``flagpipe_flags_accepted_total`` as one worker's /metrics reports it."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("flagpipe_flags_accepted_total "):
            return float(line.split()[1])
    raise AssertionError("no flagpipe_flags_accepted_total in /metrics")


def test_any_worker_reports_the_counts_of_both(two_workers):
    url, _ = two_workers
    with httpx.Client(base_url=url, timeout=10) as http:
        before = accepted_total(http)
    for _ in range(8):  # new connections: the kernel spreads them over the workers
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.post("/v1/flags", json={"values": {"m": 1}}, headers=auth()).status_code == 202
    for _ in range(4):
        with httpx.Client(base_url=url, timeout=10) as http:
            assert accepted_total(http) == before + 8


def test_body_caps_over_http(two_workers):
    url, _ = two_workers
    response = httpx.post(f"{url}/v1/flags", content=b"x" * (11 * 1024 * 1024), headers=auth(), timeout=30)
    assert response.status_code == 413


def test_serve_refuses_a_config_without_keys_or_with_half_tls(run, tmp_path):
    bare = write_config(tmp_path, {"dir": "flagged"})
    result = run("serve", "-c", str(bare))
    assert result.exit_code == 1 and "server.keys is empty" in result.output
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = run("serve", "-c", str(bare), "--tls-cert", str(cert))
    assert result.exit_code == 1 and "--tls-cert and --tls-key go together" in result.output


def test_serve_reports_config_errors_before_starting(run, tmp_path):
    config = write_config(tmp_path, {"server": {"keys": [{"id": "a", "key": "short"}]}})
    result = run("serve", "-c", str(config))
    assert result.exit_code == 1 and "shorter than 16" in result.output


def test_hash_key_prints_the_stored_form(run):
    result = run("hash-key", "--key", "some-long-api-key-value")
    assert result.exit_code == 0
    assert result.output.strip() == hash_key("some-long-api-key-value")
