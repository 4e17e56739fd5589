"""Redis as the shared cache, without making Redis a dependency of every request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _tolerant(call: Callable[[], T], fallback: T) -> T:
    try:
        return call()
    except RedisError as error:
        logger.warning("Cache unavailable (%s); carrying on without it", error)
        return fallback


class OutageTolerantRedisCache(RedisCache):
    """While Redis is down, reads miss and writes are dropped (each logged) instead of turning
    a cached report or a sign-in into a 500. Sign-in limits then count nothing: the outage is
    logged, and raters keep signing in; a lockout only matters while someone is guessing."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return _tolerant(partial(RedisCache.get, self, key, default, version), default)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return _tolerant(partial(RedisCache.get_many, self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return _tolerant(partial(RedisCache.has_key, self, key, version), False)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return _tolerant(partial(RedisCache.add, self, key, value, timeout, version), False)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        _tolerant(partial(RedisCache.set, self, key, value, timeout, version), None)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return _tolerant(partial(RedisCache.set_many, self, data, timeout, version), [])

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return _tolerant(partial(RedisCache.touch, self, key, timeout, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            logger.warning("Cache unavailable (%s); carrying on without it", error)
            # What a missing key raises, which callers of incr() already handle.
            raise ValueError(f"Key {key!r} not found (cache unavailable).") from error

    def delete(self, key: Any, version: int | None = None) -> bool:
        return _tolerant(partial(RedisCache.delete, self, key, version), False)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        _tolerant(partial(RedisCache.delete_many, self, keys, version), None)

    def clear(self) -> None:
        _tolerant(partial(RedisCache.clear, self), None)
