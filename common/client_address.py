"""The address a request came from, trusting X-Forwarded-For only as far as our own proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# Long enough for any IPv6 address with a zone; a forged header is not stored whole.
MAX_ADDRESS_LENGTH = 64


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with n trusted proxies the n-th X-Forwarded-For entry from the right.

    Each proxy appends the address it saw, so entries to the left of that one were written by
    the client and can be anything. Same rule as DRF's NUM_PROXIES, which settings set equal,
    so DRF's own throttles count the same clients."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies: int = settings.TRUSTED_PROXY_COUNT
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if proxies <= 0 or not forwarded:
        return remote[:MAX_ADDRESS_LENGTH]
    hops = forwarded.split(",")
    return hops[-min(proxies, len(hops))].strip()[:MAX_ADDRESS_LENGTH]


def throttle_identity(address: str) -> str:
    """Who a per-address limit counts: one IPv4 address, or one IPv6 network.

    A single IPv6 customer is routinely handed a whole /64 (2^64 addresses), so counting exact
    IPv6 addresses would give one attacker endless fresh limits; settings.THROTTLE_IPV6_PREFIX
    sets the network counted as one client. An IPv4 address written the IPv6 way (::ffff:a.b.c.d,
    as dual-stack sockets report it) is the same client as a.b.c.d. Anything unparsable (a
    forged header) is counted as written."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    prefix = min(128, max(0, int(settings.THROTTLE_IPV6_PREFIX)))
    # The integer form drops any zone (%eth0): a zone names a local interface, not a client.
    return str(ipaddress.IPv6Network((int(parsed), prefix), strict=False))
