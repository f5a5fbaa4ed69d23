"""Best-effort Redis publishes that tell every gateway process to drop cached state.

Never blocks on a down or hung Redis: short socket timeouts, and after a few failures the
caller's breaker skips Redis for a while. What is published about is already committed; the
gateway's key cache TTL (at most 1 s) bounds how late a missed message lands.
"""

from __future__ import annotations

import redis
from django.conf import settings

from core.breaker import Breaker


def publish(channel: str, messages: tuple[str, ...] | list[str], breaker: Breaker) -> None:
    if not settings.REDIS_URL or not messages or not breaker.allow():
        return
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.25, socket_connect_timeout=0.25
        )
        try:
            for message in messages:
                client.publish(channel, message)
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        breaker.failure(exc)
    else:
        breaker.success()
