"""Error answers encode whatever text a caller sent, even a lone surrogate."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.server.conftest import auth, collector_config

from flagpipe.server import app
from flagpipe.server.errors import ApiError, invalid

pytestmark = pytest.mark.anyio


def test_an_error_with_a_lone_surrogate_renders_as_ascii_json() -> None:
    response = invalid(["values", "\ud800"], "not a declared field").response()
    assert response.body.isascii()
    assert json.loads(response.body)["problems"][0]["loc"] == ["values", "\ud800"]
    limited = ApiError(429, "rate_limited", "slow down é", headers={"Retry-After": "3"}).response()
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert json.loads(limited.body)["message"] == "slow down é"


async def test_a_surrogate_key_is_a_422_not_a_500(tmp_path) -> None:
    config = collector_config(tmp_path)
    config["fields"] = [{"name": "t", "kind": "text"}]
    api = app(config)
    headers = {**auth(), "content-type": "application/json"}
    try:
        transport = httpx.ASGITransport(app=api, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            one = await c.post("/v1/flags", content=b'{"values": {"\\ud800": "x"}}', headers=headers)
            batch = await c.post("/v1/flags/batch", content=b'{"flags": [{"values": {"\\udc00": 1}}]}', headers=headers)
    finally:
        api.state.flagpipe.close()
    assert one.status_code == 422 and one.json()["problems"][0]["loc"] == ["values", "\ud800"]
    assert batch.status_code == 200 and batch.json()["items"][0]["status"] == 422
