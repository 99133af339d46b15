"""A real HTTP server on 127.0.0.1 and a small callback that POSTs events to it, for delivery tests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import Field

import flagpipe


class Sink:
    """Records the JSON bodies it receives; answers with queued statuses first, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[tuple[int, dict[str, str]]] = []
        self.default_status = 200
        self.requests = 0
        self.reject_ids: set[str] = set()
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.statuses.extend([(status, headers or {})] * times)

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for body in self.received for e in body["events"]]


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with sink.lock:
                sink.requests += 1
                status, headers = sink.statuses.pop(0) if sink.statuses else (sink.default_status, {})
                if sink.reject_ids & {e["id"] for e in json.loads(body)["events"]}:
                    status = 400
                if status == 200:
                    sink.received.append(json.loads(body))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


class PostSettings(flagpipe.CallbackSettings):
    url: str = Field(description="Where to POST.")
    timeout: float = 5.0


class PostCallback(flagpipe.Callback[PostSettings]):
    """POSTs each batch as JSON and classifies the answer like the webhook callback does."""

    type_name = "test_post"
    Settings = PostSettings

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        body = json.dumps({"events": [json.loads(e.model_dump_json()) for e in events]}).encode()
        request = urllib.request.Request(self.settings.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout):
                return
        except urllib.error.HTTPError as exc:
            retry_after = exc.headers.get("Retry-After")
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise flagpipe.RetryableError(
                    f"HTTP {exc.code}", retry_after=float(retry_after) if retry_after else None
                ) from None
            raise flagpipe.PermanentError(f"HTTP {exc.code}") from None
        except OSError as exc:
            raise flagpipe.RetryableError(f"connection failed: {exc}") from None


class PostPlugin:
    """The plugin object registering :class:`PostCallback`."""

    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self) -> list[type[flagpipe.Callback[Any]]]:
        return [PostCallback]
