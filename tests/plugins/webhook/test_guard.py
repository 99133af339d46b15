"""The transport guard: which addresses a webhook may reach, on every connection and redirect hop.

Name resolution in these tests goes through a resolver the test controls (``DestinationGuard``'s
``resolve``, the signature of :func:`socket.getaddrinfo`): a made-up name such as ``rebind.test``
resolves to what the test says, call by call, so DNS rebinding is played out without a DNS
server or ``/etc/hosts``. Every other name goes to the system resolver. The HTTP servers are real
(pytest-httpserver on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import flagpipe
from flagpipe.plugins.webhook import WebhookCallback, WebhookSettings
from flagpipe.plugins.webhook.addresses import ALWAYS_REFUSED, METADATA_ADDRESSES, PRIVATE, embedded_ipv4, refusal
from flagpipe.plugins.webhook.guard import DestinationGuard, looks_like_host

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer


class Resolver:
    """A resolver the test controls: ``names`` maps a host to the answers of successive calls."""

    def __init__(self, **names: list[list[str]]) -> None:
        self.names = {k.replace("_", "."): v for k, v in names.items()}
        self.calls: list[str] = []

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in self.names:
            return socket.getaddrinfo(host, port, *args, **kwargs)
        self.calls.append(host)
        answers = self.names[host]
        addresses = answers[min(len(self.calls) - 1, len(answers) - 1)]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]


def embedded_forms(v4: str) -> list[str]:
    """IPv6 spellings that carry the IPv4 address ``v4``."""
    n = int(ipaddress.IPv4Address(v4))
    return [
        str(ipaddress.IPv6Address((0xFFFF << 32) | n)),  # IPv4-mapped ::ffff:a.b.c.d
        str(ipaddress.IPv6Address((0xFFFF << 48) | n)),  # SIIT ::ffff:0:a.b.c.d
        str(ipaddress.IPv6Address(n)),  # IPv4-compatible ::a.b.c.d
        str(ipaddress.IPv6Address((0x64FF9B << 96) | n)),  # NAT64 64:ff9b::a.b.c.d
        str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80))),  # 6to4 2002:a.b.c.d::
        str(ipaddress.IPv6Address((0x20010000 << 96) | (n ^ 0xFFFFFFFF))),  # Teredo, client
    ]


REFUSED_V4 = ["169.254.169.254", "169.254.1.1", "169.254.170.2", "100.100.100.200", "0.0.0.0", "224.0.0.1"]


def guard_with(resolver: Resolver, *allow: str, refuse_private: bool = False) -> DestinationGuard:
    return DestinationGuard(allow, refuse_private=refuse_private, resolve=resolver)


@pytest.mark.parametrize("address", [*REFUSED_V4, "fe80::1", "fd00:ec2::254", "ff02::1", "::", "255.255.255.255"])
def test_refused_addresses_are_refused_among_good_ones(address: str) -> None:
    resolver = Resolver(hooks_example_com=[["93.184.215.14", address]])  # one bad address is enough
    with pytest.raises(flagpipe.PermanentError, match="resolves to") as caught:
        guard_with(resolver).check("https://hooks.example.com/T0KEN/secret-path")
    assert "T0KEN" not in str(caught.value) and "https://hooks.example.com/…" in str(caught.value)


@pytest.mark.parametrize("v4", REFUSED_V4)
def test_ipv4_hidden_in_ipv6_is_judged_as_the_ipv4(v4: str) -> None:
    for form in embedded_forms(v4):
        if form != "::":  # the unspecified address itself, refused as such
            assert ipaddress.IPv4Address(v4) in embedded_ipv4(ipaddress.IPv6Address(form)), form
        assert refusal(ipaddress.ip_address(form), [], refuse_private=False) is not None, form
        with pytest.raises(flagpipe.PermanentError, match=r"embedded in|unspecified"):
            guard_with(Resolver(h_test=[[form]])).check("http://h.test/")


@given(st.integers(0, 2**32 - 1))
def test_any_ipv4_and_its_ipv6_forms_get_the_same_verdict(n: int) -> None:
    v4 = ipaddress.IPv4Address(n)
    plain = refusal(v4, [], refuse_private=True)
    for form in embedded_forms(str(v4))[:2] + embedded_forms(str(v4))[3:]:
        verdict = refusal(ipaddress.IPv6Address(form), [], refuse_private=True)
        assert (verdict is None) == (plain is None), (v4, form)


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA", "instance-data"])
def test_metadata_host_names_are_refused_without_resolving(host: str) -> None:
    resolver = Resolver()
    resolver.names[host.lower()] = [["93.184.215.14"]]
    with pytest.raises(flagpipe.PermanentError, match="cloud metadata host"):
        guard_with(resolver).check(f"http://{host}/computeMetadata/v1/")
    assert resolver.calls == []


def test_private_ranges_pass_by_default_and_are_refused_on_request() -> None:
    private = ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.2", "100.64.0.1", "::1", "fd12::1", "fec0::1"]
    guard_with(Resolver(hooks_internal=[private])).check("http://hooks.internal:8080/flags")
    for address in private:
        with pytest.raises(flagpipe.PermanentError, match=r"loopback|private|shared|site-local"):
            guard_with(Resolver(hooks_internal=[[address]]), refuse_private=True).check("http://hooks.internal/")
        for form in embedded_forms(address)[:1] if ":" not in address else []:
            with pytest.raises(flagpipe.PermanentError):
                guard_with(Resolver(h_test=[[form]]), refuse_private=True).check("http://h.test/")
    guard_with(Resolver(hooks_internal=[["10.1.2.3"]]), "10.0.0.0/8", refuse_private=True).check(
        "http://hooks.internal/"
    )


def test_every_documented_range_is_refused_at_its_edges() -> None:
    for tables, refuse_private in ((ALWAYS_REFUSED, False), (PRIVATE, True)):
        for _, networks in tables:
            for network in networks:
                for address in (network[0], network[-1]):
                    assert refusal(address, [], refuse_private=refuse_private) is not None, address
    assert all(refusal(a, [], refuse_private=False) for a in METADATA_ADDRESSES)
    assert refusal(ipaddress.ip_address("93.184.215.14"), [], refuse_private=True) is None


def test_allow_addresses_by_network_and_by_host() -> None:
    resolver = Resolver(sidecar_local=[["169.254.10.10"]])
    guard_with(resolver, "169.254.0.0/16").check("http://sidecar.local/")
    guard_with(resolver, "sidecar.local").check("http://sidecar.local/")
    with pytest.raises(flagpipe.PermanentError):
        guard_with(resolver, "169.254.99.0/24", "other.local").check("http://sidecar.local/")
    guard_with(resolver, "metadata.google.internal").check_host("http://metadata.google.internal/")


def test_a_host_that_does_not_resolve_is_retryable() -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("Name or service not known")

    with pytest.raises(flagpipe.RetryableError, match=r"cannot resolve the host of http://nowhere\.example/…"):
        DestinationGuard(resolve=fail).check("http://nowhere.example/hook")


@pytest.mark.parametrize(
    ("item", "host"), [("hooks.example.com", True), ("10.0.0.0/8", False), ("fe80::1", False), ("127.0.0.1", False)]
)
def test_allow_list_entries_are_hosts_or_networks(item: str, host: bool) -> None:
    assert looks_like_host(item) is host


def deliver(callback: WebhookCallback) -> None:
    try:
        callback.deliver([flagpipe.FlagEvent()])
    finally:
        callback.close()


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",
        "http://2852039166/latest/meta-data",  # 169.254.169.254 as one number
        "http://metadata.test/latest/meta-data",  # a name that resolves there
    ],
)
def test_a_redirect_hop_to_a_refused_address_is_refused(httpserver: HTTPServer, target: str) -> None:
    httpserver.expect_request("/hook").respond_with_data("", status=307, headers={"Location": target})
    callback = WebhookCallback(
        WebhookSettings(private_addresses="allow", url=httpserver.url_for("/hook"), follow_redirects=True, timeout=5)
    )
    callback.guard.resolve = Resolver(metadata_test=[["169.254.169.254"]])
    with pytest.raises(flagpipe.PermanentError, match=r"refusing .*169.254.169.254|a9fe"):
        deliver(callback)
    assert len(httpserver.log) == 1  # the first hop only: the refused address was never asked


def test_a_redirect_from_an_allowed_internal_host_to_another_is_refused(httpserver: HTTPServer) -> None:
    """With private ranges refused, allowing one internal host does not allow a redirect elsewhere."""
    other = f"http://127.0.0.1:{httpserver.port}/elsewhere"
    httpserver.expect_request("/hook").respond_with_data("", status=302, headers={"Location": other})
    url = f"http://hooks.test:{httpserver.port}/hook"
    settings = WebhookSettings(
        url=url, follow_redirects=True, private_addresses="refuse", allow_addresses=["hooks.test"]
    )
    callback = WebhookCallback(settings)
    callback.guard.resolve = Resolver(hooks_test=[["127.0.0.1"]])
    with pytest.raises(flagpipe.PermanentError, match=r"127.0.0.1, a loopback address"):
        deliver(callback)
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


def test_a_followed_redirect_to_an_allowed_place_delivers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=308, headers={"Location": "/new"})
    httpserver.expect_request("/new", method="POST").respond_with_data("ok")
    deliver(
        WebhookCallback(
            WebhookSettings(private_addresses="allow", url=httpserver.url_for("/old"), follow_redirects=True)
        )
    )
    assert [request.path for request, _ in httpserver.log] == ["/old", "/new"]


def test_dns_rebinding_gains_nothing(httpserver: HTTPServer) -> None:
    """``rebind.test`` answers 127.0.0.1 first, then the metadata address: the second connection is refused.

    The first delivery resolves once and connects to exactly the address it judged (the resolver is
    called once per connection, and the server, reached at that address, sees the request with the
    URL's own ``Host``). The server closes each connection, so the second delivery connects anew.
    """
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", headers={"Connection": "close"})
    resolver = Resolver(rebind_test=[["127.0.0.1"], ["169.254.169.254"]])
    callback = WebhookCallback(
        WebhookSettings(private_addresses="allow", url=f"http://rebind.test:{httpserver.port}/hook", timeout=5)
    )
    callback.guard.resolve = resolver
    try:
        callback.deliver([flagpipe.FlagEvent()])
        assert resolver.calls == ["rebind.test"]
        assert httpserver.log[0][0].headers["Host"] == f"rebind.test:{httpserver.port}"
        with pytest.raises(flagpipe.PermanentError, match=r"169.254.169.254, a cloud metadata address"):
            callback.deliver([flagpipe.FlagEvent()])
    finally:
        callback.close()
    assert len(httpserver.log) == 1


def test_the_health_check_connects_through_the_guard(httpserver: HTTPServer) -> None:
    callback = WebhookCallback(
        WebhookSettings(private_addresses="allow", url=f"http://rebind.test:{httpserver.port}/hook")
    )
    callback.guard.resolve = Resolver(rebind_test=[["127.0.0.1"], ["169.254.169.254"]])
    assert callback.healthcheck() == f"http://rebind.test:{httpserver.port}/… reachable"
    with pytest.raises(flagpipe.PermanentError, match="cloud metadata address"):
        callback.healthcheck()


def test_environment_proxies_are_not_used(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would connect on the guard's behalf: webhook requests ignore HTTP_PROXY."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    deliver(WebhookCallback(WebhookSettings(private_addresses="allow", url=httpserver.url_for("/hook"))))
    assert len(httpserver.log) == 1


def test_the_security_page_lists_every_refused_range() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text(encoding="utf-8")
    for _, networks in (*ALWAYS_REFUSED, *PRIVATE):
        for network in networks:
            assert f"`{network}`" in page, network
    for address in METADATA_ADDRESSES:
        assert f"`{address}`" in page, address


def test_loopback_and_private_ranges_are_refused_by_default(httpserver: HTTPServer) -> None:
    """A webhook reaches this host or a private network only when its config says so."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    default = WebhookCallback(WebhookSettings(url=httpserver.url_for("/hook"), timeout=5))
    assert default.settings.private_addresses == "refuse"
    with pytest.raises(flagpipe.PermanentError, match=r"refusing a connection to .*a loopback address"):
        deliver(default)
    assert httpserver.log == []  # nothing was sent
    for opened in (
        WebhookSettings(url=httpserver.url_for("/hook"), private_addresses="allow", timeout=5),
        WebhookSettings(url=httpserver.url_for("/hook"), allow_addresses=["127.0.0.0/8", "localhost"], timeout=5),
    ):
        deliver(WebhookCallback(opened))
    assert len(httpserver.log) == 2
