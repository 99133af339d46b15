"""Metrics labels stay few whatever clients send: methods from a fixed set, routes by template."""

from __future__ import annotations

import pytest

from flagpipe.server.metrics import Metrics

pytestmark = pytest.mark.anyio


def test_a_method_outside_the_fixed_set_is_labelled_other() -> None:
    metrics = Metrics(None)
    for method in ("GET", "POST", "X1", "X2", "PROPFIND", "get"):
        metrics.observe("/healthz", method, 200, 0.001)
    text = metrics.render().decode()
    assert 'method="GET"' in text and 'method="POST"' in text
    assert 'method="other"' in text and 'method="X1"' not in text and 'method="get"' not in text
    assert text.count("flagpipe_request_seconds_count{") == 3


async def test_invented_methods_and_paths_add_no_series(client) -> None:
    for i in range(50):
        await client.request(f"X{i}", "/healthz")
        await client.get(f"/no/such/path/{i}")
        await client.get(f"/v1/flags/id-{i}")
    text = (await client.get("/metrics")).text
    series = [line for line in text.splitlines() if line.startswith("flagpipe_request_seconds_count{")]
    assert 'method="other"' in text and 'method="X' not in text
    assert "/no/such" not in text and "id-1" not in text
    assert 'route="unmatched"' in text and 'route="/v1/flags/{event_id}"' in text
    assert len(series) <= 5, series
