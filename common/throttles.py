"""Sign-in limits kept in the shared cache, so every worker process counts together: calls per
client address (a DRF throttle) and failed sign-ins per account (a lockout with a cool-down)."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from common.client_address import client_address
from common.errors import ServiceError


class SignInRateThrottle(SimpleRateThrottle):
    """Login and token calls per client address (settings.SIGN_IN_RATE), whoever they name."""

    scope = "sign_in"

    def get_rate(self) -> str:
        # Read per request, not once at import like DRF's THROTTLE_RATES, so settings apply.
        rate: str = settings.SIGN_IN_RATE
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class AccountLocked(ServiceError):
    """Too many failed sign-ins for one username: answered alike whether the account exists."""

    status = 429
    default_code = "account_locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed sign-ins for this account; try again later.")
        self.retry_after = retry_after


def _account_key(kind: str, username: str) -> str:
    # A digest: any username makes a valid key, and the cache does not list who was tried.
    digest = hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()[:40]
    return f"sign-in:{kind}:{digest}"


def lockout_remaining(username: str) -> int:
    """Seconds until `username` may sign in again; 0 when it is not locked. The lock stores
    when it began, so a shorter cool-down set later applies to locks already taken."""
    locked_at = cache.get(_account_key("locked", username))
    if locked_at is None:
        return 0
    remaining = float(locked_at) + settings.LOGIN_LOCKOUT_COOLDOWN_S - time.time()
    return max(0, math.ceil(remaining))


def ensure_not_locked(username: str) -> None:
    """Raise AccountLocked while `username` is in its cool-down."""
    remaining = lockout_remaining(username)
    if remaining > 0:
        raise AccountLocked(retry_after=remaining)


def count_failed_sign_in(username: str) -> bool:
    """Count one failure; at settings.LOGIN_LOCKOUT_FAILURES lock the account. Failures are
    forgotten after LOGIN_LOCKOUT_WINDOW_S without one. True when this failure locked it."""
    key, window = _account_key("failures", username), settings.LOGIN_LOCKOUT_WINDOW_S
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)  # atomic in Redis: parallel guesses are all counted
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    cache.touch(key, timeout=window)
    if failures < settings.LOGIN_LOCKOUT_FAILURES:
        return False
    cooldown = max(1, settings.LOGIN_LOCKOUT_COOLDOWN_S)
    cache.set(_account_key("locked", username), time.time(), timeout=cooldown)
    cache.delete(key)
    return True


def forget_failed_sign_ins(username: str) -> None:
    """A successful sign-in starts the count again."""
    cache.delete(_account_key("failures", username))
