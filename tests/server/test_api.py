"""The /v1 API in process (httpx's ASGI transport): each endpoint, each error code, idempotency, CORS, limits."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import httpx
import pytest
from tests.server.conftest import BROWSER, ORIGIN, READER, WRITER, auth

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def csv_rows(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "flagged" / "log.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def test_a_json_flag_with_a_base64_file_is_stored_and_delivered(client, tmp_path):
    body = {
        "values": {"prompt": "2+2", "answer": 5},
        "files": {"shot": {"data": base64.b64encode(PNG).decode(), "name": "shot.png", "content_type": "image/png"}},
        "option": "Off by one",
        "username": "ada",
        "comment": "close",
        "metadata": {"model": "v3"},
        "session_id": "s1",
    }
    response = await client.post("/v1/flags", json=body, headers=auth())
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["stored"] and answer["delivered"] == ["csv"] and not answer["replayed"]
    [row] = csv_rows(tmp_path)
    assert row["prompt"] == "2+2" and row["answer"] == "5" and row["flag"] == "off_by_one" and row["username"] == "ada"
    stored = tmp_path / "flagged" / row["shot"]
    assert stored.read_bytes() == PNG and stored.name.endswith("shot.png")
    status = await client.get(f"/v1/flags/{answer['id']}", headers=auth(READER))
    assert status.status_code == 200
    assert status.json()["callbacks"] == [{"callback": "csv", "state": "delivered", "error": None}]


async def test_a_multipart_flag_takes_files_as_parts(client, tmp_path):
    response = await client.post(
        "/v1/flags",
        data={"values": json.dumps({"prompt": "hi"}), "option": "wrong sign", "metadata": json.dumps({"k": 1})},
        files={"photo": ("cat.png", PNG, "image/png")},
        headers=auth(),
    )
    assert response.status_code == 202, response.text
    [row] = csv_rows(tmp_path)
    assert row["prompt"] == "hi" and row["flag"] == "wrong sign"
    assert (tmp_path / "flagged" / row["photo"]).read_bytes() == PNG


async def test_multipart_refuses_unknown_text_parts(client):
    response = await client.post("/v1/flags", data={"surprise": "x"}, files={"f": ("a.bin", b"1")}, headers=auth())
    assert response.status_code == 422
    assert response.json()["problems"][0]["loc"] == ["surprise"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"values": {}, "option": "nope"}, ["option"]),
        ({"values": {}, "colour": "red"}, ["colour"]),
        ({"values": {}, "files": {"f": {"data": "***", "name": "a.bin"}}}, ["files", "f", "data"]),
        ({"values": {"f": 1}, "files": {"f": {"data": "", "name": "a.bin"}}}, ["files", "f"]),
        ({"values": "not a map"}, ["values"]),
    ],
)
async def test_invalid_flags_are_422_with_the_field_path_and_nothing_is_stored(client, tmp_path, body, loc):
    response = await client.post("/v1/flags", json=body, headers=auth())
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid"
    assert response.json()["problems"][0]["loc"] == loc
    assert not (tmp_path / "flagged" / "log.csv").exists()


async def test_declared_fields_refuse_unknown_ones(make_client, tmp_path):
    from flagpipe.server import app

    config = __import__("tests.server.conftest", fromlist=["collector_config"]).collector_config(tmp_path)
    config["fields"] = [{"name": "prompt"}]
    api = app(config)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
            response = await c.post("/v1/flags", json={"values": {"prompt": "a", "extra": 1}}, headers=auth())
    finally:
        api.state.flagpipe.close()
    assert response.status_code == 422 and response.json()["problems"][0]["loc"] == ["values", "extra"]


async def test_malformed_or_too_deep_json_is_422_and_other_media_types_415(client):
    bad = await client.post("/v1/flags", content=b"{nope", headers={**auth(), "content-type": "application/json"})
    assert bad.status_code == 422
    deep = b'{"values": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}"
    too_deep = await client.post("/v1/flags", content=deep, headers={**auth(), "content-type": "application/json"})
    assert too_deep.status_code == 422 and "deeper" in too_deep.json()["message"]
    brackets_in_strings = b'{"values": {"a": "' + b"[" * 40 + b'"}}'
    fine = await client.post(
        "/v1/flags", content=brackets_in_strings, headers={**auth(), "content-type": "application/json"}
    )
    assert fine.status_code == 202
    text = await client.post("/v1/flags", content=b"hello", headers={**auth(), "content-type": "text/plain"})
    assert text.status_code == 415


async def test_keys_401_403_and_the_apps_a_key_may_flag_for(client):
    missing = await client.post("/v1/flags", json={"values": {}})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await client.post("/v1/flags", json={"values": {}}, headers=auth("x" * 30))
    assert wrong.status_code == 401
    assert (
        await client.post("/v1/flags", json={"values": {}}, headers={"Authorization": "Basic abc"})
    ).status_code == 401
    reader = await client.post("/v1/flags", json={"values": {}}, headers=auth(READER))
    assert reader.status_code == 403 and "flag" in reader.json()["message"]
    browser_read = await client.get("/v1/flags/anything", headers=auth(BROWSER))
    assert browser_read.status_code == 403
    other_app = await client.post("/v1/flags", json={"values": {}, "app": "elsewhere"}, headers=auth(BROWSER))
    assert other_app.status_code == 403
    web = await client.post("/v1/flags", json={"values": {}, "app": "web"}, headers=auth(BROWSER))
    assert web.status_code == 202
    assert (await client.get("/v1/flags/no-such-id", headers=auth(READER))).status_code == 404


async def test_an_idempotency_key_returns_the_first_answer_and_stores_nothing_twice(client, tmp_path):
    headers = {**auth(), "Idempotency-Key": "req-1"}
    first = await client.post("/v1/flags", json={"values": {"n": 1}}, headers=headers)
    again = await client.post("/v1/flags", json={"values": {"n": 1}}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == {**first.json(), "replayed": True}
    assert first.json()["delivered"] == ["csv"] and not first.json()["replayed"]
    other = await client.post("/v1/flags", json={"values": {"n": 1}}, headers={**auth(), "Idempotency-Key": "req-2"})
    assert other.json()["id"] != first.json()["id"]
    assert len(csv_rows(tmp_path)) == 2
    too_long = await client.post("/v1/flags", json={"values": {}}, headers={**auth(), "Idempotency-Key": "k" * 300})
    assert too_long.status_code == 422 and too_long.json()["problems"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_a_used_idempotency_key_refuses_a_different_request(client, tmp_path):
    headers = {**auth(), "Idempotency-Key": "req-9"}
    first = await client.post("/v1/flags", json={"values": {"n": 1}}, headers=headers)
    assert first.status_code == 202
    different = await client.post("/v1/flags", json={"values": {"n": 2}}, headers=headers)
    assert different.status_code == 422
    assert different.json()["problems"][0]["loc"] == ["header", "Idempotency-Key"]
    assert "different request" in different.json()["message"]
    assert [row["n"] for row in csv_rows(tmp_path)] == ["1"]


async def test_a_batch_answers_each_flag_on_its_own_and_replays_by_item_key(client, tmp_path):
    flags = [
        {"values": {"n": 1}, "idempotency_key": "e1"},
        {"values": {"n": 2}, "option": "nope", "idempotency_key": "e2"},
        {"values": {"n": 3}, "bogus": True},
        {"values": {"n": 4}, "idempotency_key": "e4"},
    ]
    response = await client.post("/v1/flags/batch", json={"flags": flags}, headers=auth())
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["refused"]) == (2, 2)
    assert [item["status"] for item in answer["items"]] == [202, 422, 422, 202]
    assert answer["items"][2]["problems"][0]["loc"] == ["flags", 2, "bogus"]
    replay = (await client.post("/v1/flags/batch", json={"flags": flags}, headers=auth())).json()
    assert (
        replay["items"][0]["flag"]["replayed"] and replay["items"][0]["flag"]["id"] == answer["items"][0]["flag"]["id"]
    )
    assert sorted(r["n"] for r in csv_rows(tmp_path)) == ["1", "4"]


async def test_batch_shape_and_size_limits(make_client):
    async with make_client(max_batch=2) as c:
        assert (await c.post("/v1/flags/batch", json={"flags": []}, headers=auth())).status_code == 422
        assert (await c.post("/v1/flags/batch", json=[1], headers=auth())).status_code == 422
        three = {"flags": [{"values": {}}] * 3}
        response = await c.post("/v1/flags/batch", json=three, headers=auth())
        assert response.status_code == 422 and "at most 2" in response.json()["message"]


async def test_bodies_are_capped_before_they_are_read(make_client):
    async with make_client(max_body_bytes=1000) as c:
        big = {"values": {"text": "x" * 2000}}
        declared = await c.post("/v1/flags", json=big, headers=auth())
        assert declared.status_code == 413 and declared.json()["error"] == "too_large"

        async def chunks():  # no Content-Length: the cap applies while streaming
            for _ in range(10):
                yield b"x" * 200

        streamed = await c.post("/v1/flags", content=chunks(), headers={**auth(), "content-type": "application/json"})
        assert streamed.status_code == 413


async def test_rate_limits_per_key_answer_429_with_retry_after(make_client):
    async with make_client(rate_limit={"per_second": 0.5, "burst": 2}) as c:
        statuses = [(await c.post("/v1/flags", json={"values": {}}, headers=auth())).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        limited = await c.post("/v1/flags", json={"values": {}}, headers=auth())
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert (await c.post("/v1/flags", json={"values": {}, "app": "web"}, headers=auth(BROWSER))).status_code == 202


async def test_each_flag_of_a_batch_costs_a_token_and_those_past_the_tokens_are_429(make_client, tmp_path):
    async with make_client(rate_limit={"per_second": 0.01, "burst": 3}) as c:
        flags = [{"values": {"n": i}, "idempotency_key": f"b{i}"} for i in range(5)]
        response = await c.post("/v1/flags/batch", json={"flags": flags}, headers=auth())
        assert response.status_code == 200
        answer = response.json()
        assert (answer["accepted"], answer["refused"]) == (3, 2)
        assert [item["status"] for item in answer["items"]] == [202, 202, 202, 429, 429]
        assert answer["items"][3]["error"] == "rate_limited" and int(response.headers["retry-after"]) >= 1
        assert sorted(r["n"] for r in csv_rows(tmp_path)) == ["0", "1", "2"]
        empty = await c.post("/v1/flags/batch", json={"flags": flags[3:]}, headers=auth())
        assert empty.status_code == 429 and int(empty.headers["retry-after"]) >= 1
    async with make_client(rate_limit={"per_second": 0.01, "burst": 4}) as c:  # another key id: a fresh bucket
        web = [{**flag, "app": "web", "idempotency_key": f"w{i}"} for i, flag in enumerate(flags)]
        first = (await c.post("/v1/flags/batch", json={"flags": web[:2]}, headers=auth(BROWSER))).json()
        assert first["accepted"] == 2  # two tokens of four spent
        resent = await c.post("/v1/flags/batch", json={"flags": web}, headers=auth(BROWSER))
        # replays cost nothing: the two tokens left take flags 2 and 3
        assert [item["status"] for item in resent.json()["items"]] == [202, 202, 202, 202, 429]
        assert [item["flag"]["replayed"] for item in resent.json()["items"][:4]] == [True, True, False, False]
    fresh = [{"id": "fresh", "key": WRITER}]  # the buckets stay on disk: another key id has a full one
    async with make_client(keys=fresh, client_rate_limit={"per_second": 0.01, "burst": 2}) as c:
        answer = (await c.post("/v1/flags/batch", json={"flags": flags[:1] + web[1:]}, headers=auth())).json()
        assert [item["status"] for item in answer["items"]] == [202, 202, 429, 429, 429]


async def test_client_limits_trust_x_forwarded_for_only_from_listed_proxies(make_client):
    limit = {"per_second": 0.5, "burst": 1}
    async with make_client(client_rate_limit=limit, trusted_proxies=["127.0.0.0/8"]) as c:
        c._transport = httpx.ASGITransport(app=c._transport.app, client=("127.0.0.1", 5000))  # the proxy
        for address in ("203.0.113.1", "203.0.113.2"):
            ok = await c.get("/v1/config", headers={**auth(), "X-Forwarded-For": f"{address}, 127.0.0.2"})
            assert ok.status_code == 200
        again = await c.get("/v1/config", headers={**auth(), "X-Forwarded-For": "203.0.113.1"})
        assert again.status_code == 429
    async with make_client(client_rate_limit=limit) as c:  # no trusted proxy: the header is ignored
        assert (await c.get("/v1/config", headers={**auth(), "X-Forwarded-For": "198.51.100.1"})).status_code == 200
        assert (await c.get("/v1/config", headers={**auth(), "X-Forwarded-For": "198.51.100.2"})).status_code == 429


async def test_cors_preflight_allows_listed_origins_only(client):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await client.options("/v1/flags", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
    denied = await client.options("/v1/flags", headers={"Origin": "http://evil.test", **preflight})
    assert denied.status_code == 400 and "access-control-allow-origin" not in denied.headers
    simple = await client.get("/v1/config", headers={"Origin": ORIGIN, **auth(BROWSER)})
    assert simple.headers["access-control-allow-origin"] == ORIGIN


async def test_config_health_readiness_metrics_and_openapi(client):
    config = (await client.get("/v1/config", headers=auth(BROWSER))).json()
    assert config["mode"] == "manual" and config["notice"] == "Flags are kept for review."
    assert config["options"] == [
        {"label": "wrong sign", "value": "wrong sign"},
        {"label": "Off by one", "value": "off_by_one"},
    ]
    assert (await client.get("/v1/config")).status_code == 401
    assert (await client.get("/healthz")).text == "ok\n"
    assert (await client.get("/readyz")).status_code == 200
    await client.post("/v1/flags", json={"values": {}}, headers=auth())
    await client.post("/v1/flags", json={"values": {}, "option": "x"}, headers=auth())
    metrics = (await client.get("/metrics")).text
    assert "flagpipe_flags_accepted_total 1.0" in metrics
    assert 'flagpipe_flags_refused_total{reason="invalid"} 1.0' in metrics
    assert 'flagpipe_deliveries_total{callback="csv"} 1.0' in metrics
    assert 'flagpipe_pending{callback="csv"} 0.0' in metrics
    assert 'flagpipe_request_seconds_count{method="POST",route="/v1/flags",status="202"} 1.0' in metrics
    document = (await client.get("/openapi.json")).json()
    assert {"/v1/flags", "/v1/flags/batch", "/v1/flags/{event_id}", "/v1/config"} <= set(document["paths"])
    assert "FlagIn" in document["components"]["schemas"]


async def test_readiness_fails_while_a_callback_is_disabled(client):
    api = client._transport.app
    api.state.flagpipe.flagger.journal.disable("csv", "the table is gone")
    response = await client.get("/readyz")
    assert response.status_code == 503 and "csv is disabled" in response.text
    assert WRITER not in response.text


async def test_a_chat_cannot_refer_to_a_file_that_was_never_flagged(make_client, tmp_path):
    """A stored-file reference from outside must match a stored file: not the journal, not a guess."""
    from flagpipe.server import app

    config = __import__("tests.server.conftest", fromlist=["collector_config"]).collector_config(tmp_path)
    config["fields"] = [{"name": "chat", "kind": "chat"}]
    api = app(config)
    journal = {"path": ".flagpipe/journal.sqlite3", "sha256": "0" * 64, "size": 1}
    guessed = {"path": "chat/0123456789abcdef0123/a.png", "sha256": "0" * 64, "size": 1}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
            answers = [
                await c.post(
                    "/v1/flags",
                    json={"values": {"chat": [{"role": "user", "content": [{"type": "file", "file": ref}]}]}},
                    headers=auth(),
                )
                for ref in (journal, guessed)
            ]
    finally:
        api.state.flagpipe.close()
    for response, problem in zip(answers, ("is not in a field's folder", "is not a stored file"), strict=True):
        assert response.status_code == 422, response.text
        assert problem in response.text
    log = tmp_path / "flagged" / "log.csv"
    assert not log.exists() or len(log.read_text().splitlines()) == 1  # the header at most


async def test_no_value_is_read_from_a_path_on_the_server_and_chat_files_come_inline(make_client, tmp_path):
    """A string is never a server path (not /etc/passwd, not /proc/self/environ); chat files come as base64."""
    from flagpipe.server import app

    config = __import__("tests.server.conftest", fromlist=["collector_config"]).collector_config(tmp_path)
    config["fields"] = [{"name": "shot", "kind": "image"}, {"name": "conv", "kind": "chat"}]
    api = app(config)
    png = b"\x89PNG\r\n\x1a\n" + b"\x02" * 16
    inline_part = {"type": "file", "file": {"data": base64.b64encode(png).decode(), "name": "x.png"}}
    bodies = {
        "path": {"values": {"shot": "/etc/passwd"}},
        "environ": {"values": {"shot": "/proc/self/environ"}},
        "missing": {"values": {"shot": "/nonexistent/file"}},
        "chat path": {"values": {"conv": [{"role": "user", "content": {"path": "/etc/hostname"}}]}},
        "chat name": {
            "values": {"conv": [{"role": "user", "content": [{"type": "file", "file": {"name": "/etc/group"}}]}]}
        },
        "bad base64": {"values": {"conv": [{"role": "user", "content": [{"type": "file", "file": {"data": "***"}}]}]}},
        "inline": {"values": {"conv": [{"role": "user", "content": ["look", inline_part]}]}},
    }
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
            answers = {name: await c.post("/v1/flags", json=body, headers=auth()) for name, body in bodies.items()}
            (event,) = api.state.flagpipe.flagger.latest(5)
    finally:
        api.state.flagpipe.close()
    for name in ("path", "environ", "missing", "chat path", "chat name"):
        assert answers[name].status_code == 422, name
        assert "not as a path on the server" in answers[name].text, name
    assert answers["bad base64"].status_code == 422
    assert answers["bad base64"].json()["problems"][0]["loc"] == ["values", "conv", 0, "content", 0, "file", "data"]
    assert answers["inline"].status_code == 202, answers["inline"].text
    stored = event.field("conv").value[0]["content"][1]["file"]
    assert (tmp_path / "flagged" / stored["path"]).read_bytes() == png
    assert not list((tmp_path / "flagged").rglob("passwd")) and not list((tmp_path / "flagged").rglob("environ"))
