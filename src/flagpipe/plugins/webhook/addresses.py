"""Which IP addresses a webhook may connect to: the refused ranges, and IPv4 addresses hidden in IPv6.

The ranges are listed here once; the guard (:mod:`flagpipe.plugins.webhook.guard`) and the docs use
them. An IPv6 address can carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, SIIT ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d`` and ``64:ff9b:1::/48``, 6to4
``2002::/16``, Teredo ``2001::/32``): :func:`embedded_ipv4` finds it, so each is judged like the plain
IPv4 address it reaches.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "ALWAYS_REFUSED",
    "METADATA_ADDRESSES",
    "PRIVATE",
    "Address",
    "Network",
    "embedded_ipv4",
    "refusal",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*items: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item) for item in items)


#: Refused unless allow-listed, whatever ``private_addresses`` says: (what it is, its networks).
ALWAYS_REFUSED: tuple[tuple[str, tuple[Network, ...]], ...] = (
    ("unspecified or 'this network'", _nets("0.0.0.0/8", "::/128")),
    ("link-local", _nets("169.254.0.0/16", "fe80::/10")),
    ("multicast", _nets("224.0.0.0/4", "ff00::/8")),
    ("reserved or broadcast", _nets("240.0.0.0/4")),
)
#: Cloud metadata services (AWS, ECS, AWS IPv6, Alibaba), refused unless allow-listed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
#: Refused unless ``private_addresses: allow`` (the default refuses them): (what it is, its networks).
PRIVATE: tuple[tuple[str, tuple[Network, ...]], ...] = (
    ("loopback", _nets("127.0.0.0/8", "::1/128")),
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")),
    ("shared (carrier-grade NAT)", _nets("100.64.0.0/10")),
    ("site-local", _nets("fec0::/10")),
)

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = _nets("64:ff9b::/96", "64:ff9b:1::/48")


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, SIIT, NAT64, 6to4, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    carried = address in _MAPPED or address in _TRANSLATED or any(address in n for n in _NAT64)
    if carried or (address in _COMPATIBLE and int(address) > 1):
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.append(address.teredo[1])  # the client: where a Teredo packet ends up
    return found


def _category(address: Address, refuse_private: bool) -> str | None:
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    tables = (*ALWAYS_REFUSED, *PRIVATE) if refuse_private else ALWAYS_REFUSED
    for name, networks in tables:
        if any(address in n for n in networks if n.version == address.version):
            return f"a {name} address"
    return None


def refusal(address: Address, allow: Sequence[Network], *, refuse_private: bool) -> str | None:
    """Why ``address`` is refused (``"a link-local address"``), or None when it may be reached.

    An address inside an ``allow`` network passes; otherwise the address and every IPv4 address it
    embeds are judged, and the first refused one gives the reason.
    """
    if _allowed(address, allow):
        return None
    for candidate in (address, *embedded_ipv4(address)):
        if candidate is not address and _allowed(candidate, allow):
            continue
        reason = _category(candidate, refuse_private)
        if reason is not None:
            return reason if candidate is address else f"{reason} ({candidate}, embedded in {address})"
    return None


def _allowed(address: Address, allow: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in allow)
