"""The webhook callback passes the plugin-author kit's contract, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug import Request, Response

from flagpipe.plugins.webhook import WebhookCallback
from flagpipe.testing import CallbackContract

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from flagpipe import Callback


class Receiver:
    """Stores each flag once, deduplicating on ``webhook-id`` as the Standard Webhooks spec asks receivers to."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.ids: list[str] = []
        self.answer = 200

    def __call__(self, request: Request) -> Response:
        if self.answer != 200:
            return Response("failing", status=self.answer)
        if request.headers["webhook-id"] not in self.seen:
            self.seen.add(request.headers["webhook-id"])
            body = json.loads(request.get_data())
            flags = body["data"]["events"] if body["type"] == "flag.batch" else [body["data"]]
            self.ids.extend(flag["id"] for flag in flags)
        return Response("ok")


class TestWebhookContract(CallbackContract):
    callback_class = WebhookCallback

    @pytest.fixture(autouse=True)
    def _receiver(self, httpserver: HTTPServer) -> Iterator[None]:
        self.receiver = Receiver()
        httpserver.expect_request("/hook", method="POST").respond_with_handler(self.receiver)
        self.url = httpserver.url_for("/hook")
        yield

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "url": self.url,
            "headers": {"Authorization": "Bearer contract-secret-token"},
            "private_addresses": "allow",  # the receiver listens on 127.0.0.1
        }

    def stored_ids(self, directory: Path) -> list[str]:
        return list(self.receiver.ids)

    def fail_retryably(self, callback: Callback[Any]) -> None:
        self.receiver.answer = 503

    def fail_permanently(self, callback: Callback[Any]) -> None:
        self.receiver.answer = 400
