"""The transport guard: which addresses a webhook may reach, checked on every request and redirect.

A webhook URL comes from configuration, so a mistaken or hostile one could make the process call
a cloud metadata service (a server-side request forgery). :class:`DestinationGuard` refuses hosts that
resolve to a link-local address or a known metadata address, unless allow-listed. It runs as an
``httpx`` request hook, so each hop of a followed redirect is checked like the first request.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import flagpipe
from flagpipe.plugins.webhook.redaction import redact_url

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

__all__ = ["METADATA_ADDRESSES", "METADATA_HOSTS", "DestinationGuard", "looks_like_host"]

#: Addresses refused unless allow-listed: cloud metadata services (besides every link-local address).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
#: Host names of cloud metadata services, refused without resolving them.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


def looks_like_host(item: str) -> bool:
    """Whether an ``allow_addresses`` entry is a host name rather than an address or a network."""
    return any(c.isalpha() for c in item) and ":" not in item and "/" not in item


class DestinationGuard:
    """Refuses link-local and cloud-metadata destinations unless allow-listed (SSRF protection).

    :param allow: host names, addresses or CIDR networks allowed on purpose (``allow_addresses``).
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        items = list(allow)
        self.hosts = frozenset(items)
        self.networks = [ipaddress.ip_network(a, strict=False) for a in items if not looks_like_host(a)]

    def check(self, url: str) -> None:
        """Resolve the URL's host and refuse it when any of its addresses is forbidden.

        :raises flagpipe.PermanentError: a metadata host, or an address that is link-local or metadata.
        :raises flagpipe.RetryableError: the host does not resolve (yet).
        """
        host = urlsplit(url).hostname or ""
        if host in self.hosts:
            return
        shown = redact_url(url)
        if host.lower() in METADATA_HOSTS:
            raise flagpipe.PermanentError(f"refusing {shown}: a cloud metadata host (allow_addresses)")
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise flagpipe.RetryableError(f"cannot resolve the host of {shown}: {exc}") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if any(address in n for n in self.networks):
                continue
            if address.is_link_local or address in METADATA_ADDRESSES:
                raise flagpipe.PermanentError(
                    f"refusing {shown}: it resolves to {address}, a link-local or cloud metadata "
                    "address; add it to allow_addresses if this is intended"
                )

    def on_request(self, request: httpx.Request) -> None:
        """An ``httpx`` request hook: check each request, redirects included, before it is sent."""
        self.check(str(request.url))
