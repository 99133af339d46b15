"""The transport guard: which addresses a webhook may reach, checked on the connection itself.

A webhook URL comes from configuration and its host's DNS from whoever runs that host, so a
mistaken or hostile setup could make the process call a cloud metadata service or an internal
address (a server-side request forgery). :class:`DestinationGuard` resolves the host **once per
connection**, judges every address it resolves to (IPv4 hidden in IPv6 included, see
:mod:`flagpipe.plugins.webhook.addresses`), and connects to exactly the address it judged. TLS still
uses the host name (SNI and certificate checks), and the ``Host`` header is the URL's. It sits
under ``httpx`` as the network backend of :func:`guarded_transport`, so each redirect hop and each
new connection is checked, and a name that resolves differently the second time (DNS rebinding)
gains nothing. Requests never go through an environment proxy, which would connect on the guard's
behalf.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import flagpipe
from flagpipe.plugins.webhook.addresses import Address, Network, refusal
from flagpipe.plugins.webhook.redaction import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import httpx

__all__ = ["METADATA_HOSTS", "DestinationGuard", "guarded_transport", "looks_like_host"]

#: Host names of cloud metadata services, refused without resolving them.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


def looks_like_host(item: str) -> bool:
    """Whether an ``allow_addresses`` entry is a host name rather than an address or a network."""
    return any(c.isalpha() for c in item) and ":" not in item and "/" not in item


class DestinationGuard:
    """Refuses forbidden destinations (SSRF protection), judged on the addresses actually connected to.

    :param allow: host names, addresses or CIDR networks allowed on purpose (``allow_addresses``).
    :param refuse_private: refuse loopback, private, shared and site-local ranges too
        (``private_addresses: refuse``).
    :param resolve: the resolver, :func:`socket.getaddrinfo` by default (tests give their own).
    """

    def __init__(
        self,
        allow: Iterable[str] = (),
        *,
        refuse_private: bool = False,
        resolve: Callable[..., list[tuple[Any, ...]]] | None = None,
    ) -> None:
        items = list(allow)
        self.hosts = frozenset(item.lower() for item in items if looks_like_host(item))
        self.networks: list[Network] = [ipaddress.ip_network(a, strict=False) for a in items if not looks_like_host(a)]
        self.refuse_private = refuse_private
        self.resolve = resolve or socket.getaddrinfo

    def check_host(self, url: str) -> None:
        """Refuse a cloud-metadata host name before anything is resolved or sent.

        :raises flagpipe.PermanentError: the URL's host is a known metadata host (not allow-listed).
        """
        host = (urlsplit(url).hostname or "").lower()
        if host in METADATA_HOSTS and host not in self.hosts:
            raise flagpipe.PermanentError(f"refusing {redact_url(url)}: a cloud metadata host (allow_addresses)")

    def addresses(self, host: str, port: int, shown: str) -> list[Address]:
        """Resolve ``host`` once and return its addresses, all of them allowed.

        :param shown: how to name the destination in errors (no secrets).
        :raises flagpipe.PermanentError: a metadata host, or any address that is refused.
        :raises flagpipe.RetryableError: the host does not resolve (yet).
        """
        name = host.strip("[]").lower()
        if name in METADATA_HOSTS and name not in self.hosts:
            raise flagpipe.PermanentError(f"refusing {shown}: a cloud metadata host (allow_addresses)")
        try:
            infos = self.resolve(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise flagpipe.RetryableError(f"cannot resolve the host of {shown}: {exc}") from None
        found: list[Address] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            reason = None if name in self.hosts else refusal(address, self.networks, refuse_private=self.refuse_private)
            if reason is not None:
                raise flagpipe.PermanentError(
                    f"refusing {shown}: {host} resolves to {address}, {reason}; "
                    "add it to allow_addresses if this is intended"
                )
            if address not in found:
                found.append(address)
        if not found:
            raise flagpipe.RetryableError(f"cannot resolve the host of {shown}: no address")
        return found

    def connect(self, host: str, port: int, timeout: float | None, shown: str) -> socket.socket:
        """Open a TCP connection to one of ``host``'s allowed addresses, the very ones just checked.

        :raises OSError: when no address accepts the connection (the last error).
        """
        error: OSError | None = None
        for address in self.addresses(host, port, shown):
            try:
                return socket.create_connection((str(address), port), timeout)
            except OSError as exc:
                error = exc
        assert error is not None
        raise error

    def check(self, url: str) -> None:
        """Check a URL's host as a connection to it would (the address check without connecting)."""
        self.check_host(url)
        parts = urlsplit(url)
        self.addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), redact_url(url))

    def on_request(self, request: httpx.Request) -> None:
        """An ``httpx`` request hook: refuse metadata host names before a request or redirect is sent."""
        self.check_host(str(request.url))


def guarded_transport(guard: DestinationGuard) -> httpx.HTTPTransport:
    """An ``httpx`` transport whose every connection goes through ``guard`` (no environment proxy)."""
    import httpcore
    import httpx

    class GuardedBackend(httpcore.SyncBackend):
        """Connects to the addresses the guard allowed, never to a name resolved again."""

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            shown = f"a connection to {host}:{port}"
            error: Exception | None = None
            for address in guard.addresses(host, port, shown):
                try:
                    return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    error = exc
            assert error is not None
            raise error

    transport = httpx.HTTPTransport(trust_env=False)
    # The pool httpx built, rebuilt with the guarded backend: same TLS context, same defaults.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(),
    )
    return transport
