"""The transport guard on its own: which addresses a webhook may reach, and redirects to them."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import pytest

import flagpipe
from flagpipe.plugins.webhook import WebhookCallback, WebhookSettings
from flagpipe.plugins.webhook.guard import DestinationGuard, looks_like_host

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Make every host resolve to these addresses (no DNS in tests)."""

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "169.254.1.1", "169.254.170.2", "fe80::1", "fd00:ec2::254", "100.100.100.200"]
)
def test_link_local_and_metadata_addresses_are_refused(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    resolving_to(monkeypatch, "93.184.215.14", address)  # one bad address among good ones is enough
    with pytest.raises(flagpipe.PermanentError, match="link-local or cloud metadata") as caught:
        DestinationGuard().check("https://hooks.example.com/T0KEN/secret-path")
    assert "T0KEN" not in str(caught.value) and "https://hooks.example.com/…" in str(caught.value)


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA", "instance-data"])
def test_metadata_host_names_are_refused_without_resolving(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("resolved"))
    with pytest.raises(flagpipe.PermanentError, match="cloud metadata host"):
        DestinationGuard().check(f"http://{host}/computeMetadata/v1/")


def test_ordinary_and_private_addresses_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "127.0.0.1", "10.0.0.5", "192.168.1.2", "::1", "93.184.215.14")
    DestinationGuard().check("http://hooks.internal:8080/flags")


def test_allow_addresses_by_network_and_by_host(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "169.254.10.10")
    DestinationGuard(["169.254.0.0/16"]).check("http://sidecar.local/")
    DestinationGuard(["sidecar.local"]).check("http://sidecar.local/")
    with pytest.raises(flagpipe.PermanentError):
        DestinationGuard(["169.254.99.0/24", "other.local"]).check("http://sidecar.local/")
    DestinationGuard(["metadata.google.internal"]).check("http://metadata.google.internal/")


def test_a_host_that_does_not_resolve_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(flagpipe.RetryableError, match=r"cannot resolve the host of http://nowhere\.example/…"):
        DestinationGuard().check("http://nowhere.example/hook")


@pytest.mark.parametrize(
    ("item", "host"), [("hooks.example.com", True), ("10.0.0.0/8", False), ("fe80::1", False), ("127.0.0.1", False)]
)
def test_allow_list_entries_are_hosts_or_networks(item: str, host: bool) -> None:
    assert looks_like_host(item) is host


def test_a_followed_redirect_is_checked_like_the_first_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data(
        "", status=307, headers={"Location": "http://169.254.169.254/latest/meta-data"}
    )
    callback = WebhookCallback(WebhookSettings(url=httpserver.url_for("/hook"), follow_redirects=True, timeout=5))
    try:
        with pytest.raises(flagpipe.PermanentError, match=r"refusing http://169\.254\.169\.254/…"):
            callback.deliver([flagpipe.FlagEvent()])
    finally:
        callback.close()
    assert len(httpserver.log) == 1  # the first hop only: the metadata address was never asked


def test_a_followed_redirect_to_an_allowed_place_delivers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=308, headers={"Location": "/new"})
    httpserver.expect_request("/new", method="POST").respond_with_data("ok")
    callback = WebhookCallback(WebhookSettings(url=httpserver.url_for("/old"), follow_redirects=True))
    try:
        callback.deliver([flagpipe.FlagEvent()])
    finally:
        callback.close()
    assert [request.path for request, _ in httpserver.log] == ["/old", "/new"]
