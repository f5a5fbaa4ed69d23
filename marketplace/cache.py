"""Django's Redis cache, failing open: with Redis down or hung, reads miss and writes are dropped.

The cache only saves work (the public model list, for one), so an unreachable Redis must cost
a page its cached copy, not answer 500. Short socket timeouts (settings) bound a hung Redis;
a breaker then skips Redis for a few seconds at a time so pages do not each wait out the
timeout, and the log says "Redis unavailable" once per interval instead of a traceback per
request.
"""

from __future__ import annotations

import logging

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.breaker import Breaker

log = logging.getLogger(__name__)
_DOWN = (redis.RedisError, OSError)


class FailOpenRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, *, breaker_failures: int = 3, breaker_reset_s: float = 5.0,
                 **options):
        super().__init__(servers, **options)
        self._breaker = Breaker("Django cache", log, threshold=breaker_failures,
                                reset_s=breaker_reset_s)

    def _guarded(self, fallback, method, *args):
        breaker = self._breaker
        if not breaker.allow():
            return fallback
        try:
            result = method(*args)
        except _DOWN as exc:
            breaker.failure(exc)
            return fallback
        breaker.success()
        return result

    def add(self, key, value, timeout):
        return self._guarded(False, super().add, key, value, timeout)

    def get(self, key, default):
        return self._guarded(default, super().get, key, default)

    def set(self, key, value, timeout):
        return self._guarded(None, super().set, key, value, timeout)

    def touch(self, key, timeout):
        return self._guarded(False, super().touch, key, timeout)

    def delete(self, key):
        return self._guarded(False, super().delete, key)

    def get_many(self, keys):
        return self._guarded({}, super().get_many, keys)

    def has_key(self, key):
        return self._guarded(False, super().has_key, key)

    def set_many(self, data, timeout):
        return self._guarded(None, super().set_many, data, timeout)

    def delete_many(self, keys):
        return self._guarded(None, super().delete_many, keys)

    def clear(self):
        return self._guarded(False, super().clear)


class FailOpenRedisCache(RedisCache):
    """RedisCache whose client treats Redis errors as misses (OPTIONS: breaker_* too)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
