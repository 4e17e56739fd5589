"""The address a request came from, trusting X-Forwarded-For only as far as our own proxies."""

from __future__ import annotations

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
