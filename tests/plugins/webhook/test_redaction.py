"""Secrets kept out of errors and logs, and the log filter installed only when a client opens."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from flagpipe.plugins.webhook import WebhookCallback, WebhookSettings
from flagpipe.plugins.webhook.redaction import HTTP_LOGGERS, SecretMask, mask_http_logs, redact_url, scrub, secret_parts

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX?key=qs-secret-value"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (URL, "https://hooks.slack.com/…"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/…"),
        ("https://example.com/", "https://example.com"),
        ("https://user:pw@example.com", "https://example.com"),
    ],
)
def test_redact_url_keeps_scheme_and_host(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secret_parts_cover_the_url_its_pieces_and_header_words() -> None:
    parts = secret_parts(URL, ["Bearer sk-live-0123456789"])
    assert {URL, "XXXXsecretXXXX", "qs-secret-value", "Bearer sk-live-0123456789", "sk-live-0123456789"} <= parts
    assert "wait=true" not in secret_parts("https://discord.com/api/webhooks/1/tok?wait=true", [])
    assert all(len(p) >= 6 for p in parts)  # short pieces ("T000") would mask ordinary words


def test_scrub_masks_the_whole_url_before_its_pieces() -> None:
    text = f"POST {URL} failed; token XXXXsecretXXXX"
    assert scrub(text, secret_parts(URL, [])) == "POST *** failed; token ***"


def test_the_mask_rewrites_records_and_never_drops_them() -> None:
    mask = SecretMask()
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: POST %s", (URL,), None)
    assert mask.filter(record) and record.getMessage() == f"HTTP Request: POST {URL}"
    mask.add(secret_parts(URL, []))
    assert mask.filter(record) and record.getMessage() == "HTTP Request: POST ***"


def test_importing_the_plugin_changes_no_logging_configuration() -> None:
    code = (
        "import logging, flagpipe.plugins.webhook, flagpipe.plugins.hf_dataset\n"
        f"for name in {HTTP_LOGGERS!r} + ('flagpipe',):\n"
        "    logger = logging.getLogger(name)\n"
        "    assert (logger.filters, logger.handlers, logger.level) == ([], [], logging.NOTSET), name\n"
        "root = logging.getLogger()\n"
        "assert (root.filters, root.handlers, root.level) == ([], [], logging.WARNING)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_filter_is_installed_once_when_a_client_opens(httpserver: HTTPServer) -> None:
    callbacks = [
        WebhookCallback(WebhookSettings(private_addresses="allow", url=httpserver.url_for(f"/hook/secret-{n}")))
        for n in range(3)
    ]
    for callback in callbacks:
        callback._ensure_client()
    try:
        for name in HTTP_LOGGERS:
            masks = [f for f in logging.getLogger(name).filters if isinstance(f, SecretMask)]
            assert len(masks) == 1  # idempotent: one shared filter however many clients
            assert {f"secret-{n}" for n in range(3)} <= masks[0].secrets
        assert mask_http_logs([]) is masks[0]
    finally:
        for callback in callbacks:
            callback.close()


@pytest.mark.parametrize(
    ("userinfo", "path"), [("alice:pw-hunter2", "/hook"), ("bot:pw-hunter2", ""), ("pw-hunter2:pw-hunter2", "/h?x=1")]
)
def test_a_password_in_the_url_stays_out_of_logs_errors_and_repr(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, userinfo: str, path: str
) -> None:
    import flagpipe

    httpserver.expect_request(path or "/", method="POST").respond_with_data("no", status=500)
    url = httpserver.url_for(path).replace("://", f"://{userinfo}@", 1)
    callback = WebhookCallback(WebhookSettings(private_addresses="allow", url=url, timeout=5))
    with caplog.at_level(logging.DEBUG):
        try:
            with pytest.raises(flagpipe.RetryableError) as caught:
                callback.deliver([flagpipe.FlagEvent()])
        finally:
            callback.close()
    assert httpserver.log[0][0].authorization is not None  # the credentials were used ...
    shown = [str(caught.value), repr(callback), repr(callback.settings), callback.settings.model_dump_json()]
    shown += [record.getMessage() for record in caplog.records if not record.name.startswith("werkzeug")]
    assert any("HTTP Request" in line for line in shown)
    assert not [line for line in shown if "pw-hunter2" in line]  # ... and never shown
