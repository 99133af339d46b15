"""The webhook callback against a real HTTP server on 127.0.0.1 (pytest-httpserver)."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from standardwebhooks import Webhook
from werkzeug import Request, Response

import flagpipe
from flagpipe import Flagger
from flagpipe.cli import cli
from flagpipe.config.loader import load_config
from flagpipe.plugins.webhook import WebhookCallback, WebhookSettings, sign

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from flagpipe.core.host import PluginHost

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
FAST = {"attempts": 20, "initial_delay": 0.02, "max_delay": 0.05}
PNG = b"\x89PNG\r\n\x1a\n"


def received(httpserver: HTTPServer) -> list[tuple[Request, Response]]:
    return list(httpserver.log)


FLAG_KEYS = {"id", "created_at", "mode", "option", "comment", "username", "session_id", "app", "fields", "metadata"}
FILE_KEYS = {"path", "url", "original_name", "media_type", "size", "sha256"}


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def check_flag(flag: dict[str, Any]) -> None:
    """One flag of the JSON payload has exactly the documented keys and types."""
    assert set(flag) == FLAG_KEYS
    assert isinstance(flag["id"], str) and flag["mode"] in ("manual", "auto")
    datetime.fromisoformat(flag["created_at"])
    assert all(_optional_str(flag[k]) for k in ("option", "comment", "username", "session_id", "app"))
    assert isinstance(flag["metadata"], dict)
    for field in flag["fields"]:
        assert {"name", "role", "kind"} <= set(field) <= {"name", "role", "kind", "value", "file"}
        assert isinstance(field["name"], str) and isinstance(field["kind"], str)
        assert field["role"] in ("input", "output")
        file = field.get("file")
        if file is not None:
            assert {"size", "sha256"} <= set(file) <= FILE_KEYS
            assert isinstance(file["size"], int) and isinstance(file["sha256"], str)
            assert all(_optional_str(file.get(k)) for k in ("path", "url", "original_name", "media_type"))


def check_payload(payload: dict[str, Any]) -> None:
    """The ``format: json`` body has the documented layout (schema version 1), checked on the JSON itself."""
    assert set(payload) == {"type", "timestamp", "schema_version", "data"}
    assert payload["schema_version"] == 1
    datetime.fromisoformat(payload["timestamp"])
    if payload["type"] == "flag.created":
        check_flag(payload["data"])
    else:
        assert payload["type"] == "flag.batch" and set(payload["data"]) == {"events"}
        for flag in payload["data"]["events"]:
            check_flag(flag)


def flagger_for(
    tmp_path: Path, plugins: PluginHost, url: str, mode: str = "inline", grace: float = 30, **settings: Any
) -> Flagger:
    config = {
        "dir": str(tmp_path),
        "options": ["wrong sign", "other"],
        "callbacks": [{"type": "csv"}, {"type": "webhook", "private_addresses": "allow", "url": url, **settings}],
        "delivery": {"mode": mode, "retry": FAST, "grace": grace},
    }
    return Flagger(config, plugins=plugins)


def test_published_test_vector() -> None:
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_json_payload_is_signed_and_matches_its_schema(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), secret=[OTHER_SECRET, SECRET]) as flagger:
        receipt = flagger.flag({"num1": 5, "output": -12}, option="wrong sign", username="alice")
    assert receipt.delivered == ("csv", "webhook")
    ((request, _),) = received(httpserver)
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["webhook-id"] == receipt.id
    assert len(headers["webhook-signature"].split(" ")) == 2  # both secrets sign during a rotation
    for secret in (SECRET, OTHER_SECRET):  # any Standard Webhooks library verifies it with either
        payload = Webhook(secret).verify(request.get_data(), headers)
    assert payload["type"] == "flag.created" and payload["schema_version"] == 1
    check_payload(payload)
    data = payload["data"]
    assert data["id"] == receipt.id and data["option"] == "wrong sign" and data["username"] == "alice"
    assert [(f["name"], f["value"]) for f in data["fields"]] == [("num1", 5), ("output", -12)]
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(request.get_data(), headers)


def test_batches_in_one_request(tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok", status=503)
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), mode="background", batch=True) as flagger:
        ids = [flagger.flag({"n": n}).id for n in range(5)]
        deadline = time.monotonic() + 30
        while len(httpserver.log) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        httpserver.clear_all_handlers()
        httpserver.expect_request("/hook").respond_with_data("ok")
        assert flagger.flush(30)
    bodies = [json.loads(r.get_data()) for r, resp in received(httpserver) if resp.status_code == 200]
    delivered = [e["id"] for body in bodies for e in body["data"]["events"]]
    assert delivered == ids and all(b["type"] == "flag.batch" for b in bodies)
    for body in bodies:
        check_payload(body)


def test_slack_and_discord_shapes(tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    httpserver.expect_request("/discord", query_string="wait=true").respond_with_json({"id": "1"})
    config = {
        "dir": str(tmp_path),
        "app": "calculator",
        "callbacks": [
            {
                "type": "webhook",
                "private_addresses": "allow",
                "name": "slack",
                "url": httpserver.url_for("/slack"),
                "format": "slack",
                "rate_limit": 100,
            },
            {
                "type": "webhook",
                "private_addresses": "allow",
                "name": "discord",
                "url": httpserver.url_for("/discord"),
                "format": "discord",
                "rate_limit": 100,
            },
        ],
        "delivery": {"mode": "inline"},
        "files_url_base": None,
    }
    config.pop("files_url_base")
    with Flagger(config, plugins=plugins) as flagger:
        receipt = flagger.flag(
            {"num1": 5, "image": PNG + b"x"}, option="wrong sign", username="bob", comment="sign flipped"
        )
    assert receipt.delivered == ("slack", "discord")
    slack, discord = (json.loads(r.get_data()) for r, _ in received(httpserver))
    assert "wrong sign" in slack["text"] and "bob" in slack["text"]
    assert slack["blocks"][0]["type"] == "header" and "wrong sign" in slack["blocks"][0]["text"]["text"]
    body_text = slack["blocks"][2]["text"]["text"]
    assert "*num1* (input): 5" in body_text and "image/" in body_text
    assert any("sign flipped" in e["text"] for e in slack["blocks"][3]["elements"])
    (embed,) = discord["embeds"]
    assert "wrong sign" in embed["title"] and embed["timestamp"].startswith(str(receipt.id and "20"))
    assert {"name": "Who", "value": "bob", "inline": True} in embed["fields"]
    assert discord["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(("files", "expect"), [("none", None), ("paths", "path"), ("url", "url")])
def test_large_files_travel_as_paths_or_urls(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer, files: str, expect: str | None
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    big = PNG + bytes(3_000_000)
    settings: dict[str, Any] = {"files": files}
    if files == "url":
        settings["files_url"] = "https://files.example.com/flags/"
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), **settings) as flagger:
        flagger.flag({"image": big})
    ((request, _),) = received(httpserver)
    assert len(request.get_data()) < 20_000
    check_payload(json.loads(request.get_data()))
    (field,) = json.loads(request.get_data())["data"]["fields"]
    if expect is None:
        assert field["file"] is None
    else:
        assert field["file"][expect].startswith(
            "https://files.example.com/flags/image/" if expect == "url" else "image/"
        )
        assert field["file"]["size"] == len(big)


def test_outage_then_recovery_with_the_same_webhook_id(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    for _ in range(3):
        httpserver.expect_ordered_request("/hook").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), mode="background", secret=SECRET) as flagger:
        event_id = flagger.flag({"n": 1}).id
        assert flagger.flush(30)
    log = received(httpserver)
    assert [resp.status_code for _, resp in log] == [503, 503, 503, 200]
    assert {r.headers["webhook-id"] for r, _ in log} == {event_id}
    stamps = [r.headers["webhook-timestamp"] for r, _ in log]
    assert all(s.isdigit() for s in stamps)
    for request, _ in log:
        Webhook(SECRET).verify(request.get_data(), {k.lower(): v for k, v in request.headers.items()})


def test_429_passes_retry_after_on(tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("slow down", status=429, headers={"Retry-After": "42"})
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), grace=0) as flagger:
        receipt = flagger.flag({"n": 1})
        lane = flagger.journal.lane("webhook")  # type: ignore[union-attr]
    assert "HTTP 429" in receipt.failed["webhook"]
    assert lane.last_error_at is not None
    assert lane.next_attempt_at - lane.last_error_at == pytest.approx(42, abs=1)


@pytest.mark.parametrize(
    ("status", "body", "fmt", "disabled"),
    [
        (400, "bad", "json", False),
        (401, "who", "json", False),
        (410, "gone", "json", True),
        (404, "no_service", "slack", True),
        (404, "Unknown Webhook", "discord", True),
        (404, "nope", "json", False),
    ],
)
def test_permanent_answers(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer, status: int, body: str, fmt: str, disabled: bool
) -> None:
    httpserver.expect_request("/hook").respond_with_data(body, status=status)
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), format=fmt, rate_limit=100) as flagger:
        receipt = flagger.flag({"n": 1})
        second = flagger.flag({"n": 2})
        (dead, *_) = flagger.journal.dead_letters("webhook")  # type: ignore[union-attr]
        status_row = {s.name: s for s in flagger.journal.status()}["webhook"]  # type: ignore[union-attr]
    assert dead.event_id == receipt.id and f"HTTP {status}" in dead.error
    assert receipt.delivered == ("csv",) and "csv" in second.delivered
    if disabled:
        assert status_row.disabled_reason is not None and "gone" in status_row.disabled_reason
        assert "webhook" in second.pending  # held back until someone re-enables the destination
        assert len(httpserver.log) == 1
    else:
        assert status_row.disabled_reason is None and len(httpserver.log) == 2


def test_a_timeout_is_retryable(tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.8)
        return Response("late")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), timeout=0.3, grace=0) as flagger:
        receipt = flagger.flag({"n": 1})
    assert (
        "no answer from http://localhost" in receipt.failed["webhook"]
        or "no answer from http://127.0.0.1" in receipt.failed["webhook"]
    )
    assert "webhook" in receipt.pending
    wait_until(lambda: len(httpserver.log) >= 1)  # let the slow answer finish before the next test


def test_redirects_are_not_followed(tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}
    )
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook")) as flagger:
        receipt = flagger.flag({"n": 1})
    assert "HTTP 302" in receipt.failed["webhook"] and "redirect" in receipt.failed["webhook"]
    assert len(httpserver.log) == 1


def test_secrets_never_show(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = "T0KEN-in-the-path-9f8e7d"
    header_secret = "Bearer sk-live-0123456789abcdef"
    httpserver.expect_request(f"/hooks/{token}").respond_with_data(f"denied for {token}", status=403)
    url = httpserver.url_for(f"/hooks/{token}") + "?key=qs-secret-abcdef"
    config = tmp_path / "flagging.yaml"
    config.write_text(
        "dir: flags\n"
        "delivery: {mode: inline}\n"
        "callbacks:\n"
        "  - type: webhook\n"
        "    url: ${HOOK_URL}\n"
        "    private_addresses: allow\n"
        "    headers: {Authorization: '${HOOK_AUTH}'}\n"
        f"    secret: {SECRET}\n",
        encoding="utf-8",
    )
    env = {"HOOK_URL": url, "HOOK_AUTH": header_secret, "FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "250"}
    with caplog.at_level(logging.DEBUG):
        loaded = load_config(config, env=env)
        with Flagger(loaded) as flagger:
            receipt = flagger.flag({"n": 1})
            shown = [repr(loaded), repr(loaded.chain[0].settings), repr(flagger), str(receipt)]
        runner = CliRunner()
        status = runner.invoke(cli, ["status", "-c", str(config), "--json"], env=env)
        table = runner.invoke(cli, ["status", "-c", str(config)], env=env)
        check = runner.invoke(cli, ["check", str(config)], env=env)
    assert "HTTP 403" in receipt.failed["webhook"]
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]  # not the test server's
    everything = "\n".join([*shown, status.output, table.output, check.output, *ours])
    for secret in (token, "qs-secret-abcdef", header_secret, SECRET.removeprefix("whsec_")):
        assert secret not in everything


def test_ssrf_guard(plugins: PluginHost) -> None:
    metadata = WebhookCallback(
        WebhookSettings(private_addresses="allow", url="http://169.254.169.254/latest/meta-data")
    )
    event = flagpipe.FlagEvent()
    with pytest.raises(flagpipe.PermanentError, match=r"169.254.169.254, a cloud metadata address"):
        metadata.deliver([event])
    with pytest.raises(flagpipe.PermanentError, match="cloud metadata host"):
        WebhookCallback(WebhookSettings(private_addresses="allow", url="http://metadata.google.internal/")).deliver(
            [event]
        )
    allowed = WebhookCallback(
        WebhookSettings(private_addresses="allow", url="http://169.254.169.254/", allow_addresses=["169.254.0.0/16"])
    )
    allowed.guard.check("http://169.254.169.254/")  # no error: allow-listed on purpose
    metadata.close()
    allowed.close()


def test_settings_validation() -> None:
    for bad in [
        {"url": "ftp://x"},
        {"url": "http://x", "secret": "whsec_!!!"},
        {"url": "http://x", "secret": "whsec_" + base64.b64encode(b"short").decode()},
        {"url": "http://x", "allow_addresses": ["not a network/99"]},
        {"url": "http://x", "colour": "red"},
    ]:
        with pytest.raises(ValidationError):
            WebhookSettings.model_validate(bad)
    settings = WebhookSettings.model_validate({"url": "https://hooks.example.com/T/B/secret", "secret": SECRET})
    assert "secret" not in repr(settings) or "**" in repr(settings)
    assert "T/B" not in repr(WebhookCallback(settings))


def test_healthcheck(httpserver: HTTPServer) -> None:
    ok = WebhookCallback(WebhookSettings(private_addresses="allow", url=httpserver.url_for("/hook")))
    assert "reachable" in (ok.healthcheck() or "")
    assert len(httpserver.log) == 0  # no fake flag was sent
    closed = WebhookCallback(WebhookSettings(private_addresses="allow", url="http://127.0.0.1:9/hook", timeout=2))
    with pytest.raises(flagpipe.RetryableError, match="cannot connect"):
        closed.healthcheck()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_rate_limit_spaces_requests_to_one_destination(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    arrivals: list[float] = []

    def record(request: Request) -> Response:
        arrivals.append(time.monotonic())
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(record)
    with flagger_for(tmp_path, plugins, httpserver.url_for("/hook"), rate_limit=5) as flagger:
        for n in range(3):
            flagger.flag({"n": n})
    assert len(arrivals) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= 0.18 for gap in gaps)  # 5 requests a second: never two within 0.2 s
