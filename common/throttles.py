"""Sign-in limits kept in the shared cache, so every worker process counts together: calls per
client address and sign-in attempts per account (a lockout with a cool-down).

Both are counted with cache.add + cache.incr, which Redis does atomically: an attempt is
reserved before the password is checked, so parallel guesses cannot all slip past a check that
none of them has been counted in yet. The file cache (no Redis) reads and writes in two steps,
so there parallel requests can still overshoot a limit a little (docs/operations.md)."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from common.client_address import client_address, throttle_identity
from common.errors import ServiceError


def _counted(key: str, timeout: int) -> int:
    """Add one to a counter that starts at 0 and expires `timeout` seconds after it was made."""
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr, or the cache is down: count afresh
        cache.set(key, 1, timeout=timeout)
        return 1


def _parsed_rate(rate: str) -> tuple[int, int]:
    """ "30/min" as (30, 60): DRF's notation, where only the period's first letter counts."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0]]


class SignInRateThrottle(BaseThrottle):
    """Login and token calls per client address (settings.SIGN_IN_RATE), whoever they name:
    a window that opens with a client's first call, counted atomically (DRF's own
    SimpleRateThrottle reads its history, then writes it back, so parallel calls overshoot)."""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        # Read per request, not once at import like DRF's THROTTLE_RATES, so settings apply.
        allowed, duration = _parsed_rate(settings.SIGN_IN_RATE)
        ident = throttle_identity(client_address(request))
        digest = hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()[:40]
        now = time.time()
        window_key = f"sign-in:rate-window:{digest}"
        cache.add(window_key, now, timeout=duration)
        opened = float(cache.get(window_key) or now)
        # The counter is named after its window, so a new window never inherits old counts
        # (the file cache's incr also resets a key's expiry, which this makes harmless).
        calls = _counted(f"sign-in:rate:{digest}:{opened:.6f}", duration)
        if calls <= allowed:
            return True
        self.retry_after = max(1.0, opened + duration - now)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class AccountLocked(ServiceError):
    """Too many failed sign-ins for one username: answered alike whether the account exists."""

    status = 429
    default_code = "account_locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed sign-ins for this account; try again later.")
        self.retry_after = retry_after


def account_digest(username: str) -> str:
    # A digest: any username makes a valid key, and the cache does not list who was tried.
    return hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()[:40]


def _account_key(kind: str, username: str) -> str:
    return f"sign-in:{kind}:{account_digest(username)}"


def lockout_remaining(username: str) -> int:
    """Seconds until `username` may sign in again; 0 when it is not locked. The lock stores
    when it began, so a shorter cool-down set later applies to locks already taken."""
    locked_at = cache.get(_account_key("locked", username))
    if locked_at is None:
        return 0
    remaining = float(locked_at) + settings.LOGIN_LOCKOUT_COOLDOWN_S - time.time()
    return max(0, math.ceil(remaining))


def _unlock_if_cooled_down(username: str) -> None:
    """A lock whose cool-down has passed (perhaps shortened since) starts the count again."""
    lock_key = _account_key("locked", username)
    # Only the request that removed the lock resets the count.
    expired = cache.get(lock_key) is not None and lockout_remaining(username) == 0
    if expired and cache.delete(lock_key):
        cache.delete(_account_key("attempts", username))


def reserve_sign_in_attempt(username: str) -> None:
    """Count one attempt at `username`'s password before it is checked; raise AccountLocked
    when the account is in its cool-down or this attempt is past settings.LOGIN_LOCKOUT_FAILURES.
    Attempts are forgotten after LOGIN_LOCKOUT_WINDOW_S without one, and a successful sign-in
    (forget_failed_sign_ins) starts the count again."""
    remaining = lockout_remaining(username)
    if remaining > 0:
        raise AccountLocked(retry_after=remaining)
    _unlock_if_cooled_down(username)
    key, window = _account_key("attempts", username), settings.LOGIN_LOCKOUT_WINDOW_S
    attempts = _counted(key, window)
    if attempts <= settings.LOGIN_LOCKOUT_FAILURES:
        cache.touch(key, timeout=window)
        return
    cooldown = max(1, settings.LOGIN_LOCKOUT_COOLDOWN_S)
    # The first attempt past the limit starts the cool-down; the count then lives as long as
    # the lock (the lock key one second longer, so the count is never seen without its lock).
    if cache.add(_account_key("locked", username), time.time(), timeout=cooldown + 1):
        cache.touch(key, timeout=cooldown)
    raise AccountLocked(retry_after=lockout_remaining(username) or cooldown)


def forget_failed_sign_ins(username: str) -> None:
    """A successful sign-in starts the count again."""
    cache.delete(_account_key("attempts", username))
