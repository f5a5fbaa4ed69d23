"""Open endpoint breakers as the gateways report them, read on the Django side.

Breakers live in each gateway process (routing/breakers.py). Every open or closed verdict a
process reaches is broadcast on Redis and, since issue 13, also kept in one Redis hash
(`OPEN_BREAKERS_KEY`, routing/gateway/pubsub.py): the hash holds the endpoints whose last
verdict was "open", with when. After the cool-down a process lets one probe through without
saying so (half-open is local timing), so an entry means "opened at T and no gateway has
closed it since", not "refusing traffic right now". Without Redis nothing is shared, and the
page says the state is unknown rather than that every breaker is closed.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from django.conf import settings

from core.breaker import Breaker
from routing.gateway.pubsub import OPEN_BREAKERS_KEY

logger = logging.getLogger(__name__)
_READ_BREAKER = Breaker("open breakers read", logger)


def read_open_breakers() -> dict[int, dt.datetime] | None:
    """Endpoint id -> when its breaker opened; None when Redis is absent or unreachable."""
    if not settings.REDIS_URL or not _READ_BREAKER.allow():
        return None
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.25,
                                      socket_connect_timeout=0.25)
        try:
            raw = client.hgetall(OPEN_BREAKERS_KEY)
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        _READ_BREAKER.failure(exc)
        return None
    _READ_BREAKER.success()
    opened: dict[int, dt.datetime] = {}
    for key, value in raw.items():
        try:
            endpoint_id = int(key)
            text = value.decode() if isinstance(value, bytes) else value
            at = float(text.split(" ", 1)[0])
        except ValueError:
            continue  # not ours; never let one bad field hide the rest
        opened[endpoint_id] = dt.datetime.fromtimestamp(at, tz=dt.UTC)
    return opened
