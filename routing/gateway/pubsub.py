"""Redis pub/sub fan-out between gateway processes: key revocations and breaker verdicts.

One subscriber connection per process listens to every channel; the request path never reads
Redis for these (it reads the in-memory state the messages update).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.breaker import LogThrottle
from routing.breakers import OPEN

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from routing.breakers import Breakers

log = logging.getLogger(__name__)
# While Redis is down, say so once per this many seconds, not once per reconnect attempt.
LOG_INTERVAL_S = 5.0
PUBLISH_TIMEOUT_S = 1.0

BREAKERS_CHANNEL = "switchyard:breakers"
# The last broadcast verdict per endpoint, kept where Django can read it (the staff health
# page): a hash of endpoint id -> "<unix time opened> <origin>"; a closed verdict deletes it.
OPEN_BREAKERS_KEY = "switchyard:breakers:open"


async def listen(redis: aioredis.Redis, handlers: dict[str, Callable[[str], None]]) -> None:
    """Call `handlers[channel](data)` for every message; reconnects until cancelled."""
    throttle = LogThrottle(log, LOG_INTERVAL_S)
    while True:
        try:
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(*handlers)
            async for message in pubsub.listen():
                channel = message.get("channel")
                data = message.get("data")
                if isinstance(channel, bytes):
                    channel = channel.decode()
                if isinstance(data, bytes):
                    data = data.decode()
                handler = handlers.get(channel)
                if handler is not None and isinstance(data, str):
                    try:
                        handler(data)
                    except Exception:
                        log.warning("bad pub/sub message on %s", channel, exc_info=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis restarts must not kill the gateway; the cache TTL
            # still bounds how late a revocation lands.
            throttle.warning("pub/sub listener: Redis unavailable (%s: %s); retrying every 1 s",
                             type(exc).__name__, exc)
            await asyncio.sleep(1.0)


class BreakerBroadcast:
    """Publishes this process's breaker verdicts and applies other processes' ones."""

    def __init__(self, redis: aioredis.Redis, breakers: Breakers):
        self._redis = redis
        self._breakers = breakers
        self._origin = f"{os.getpid()}-{id(self)}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._throttle = LogThrottle(log, LOG_INTERVAL_S)

    def publish(self, endpoint_id: int, state: str) -> None:
        task = asyncio.get_running_loop().create_task(
            self._publish(endpoint_id, state, time.time()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, endpoint_id: int, state: str, at: float) -> None:
        # Best effort: other processes learn the verdict from their own calls otherwise.
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                pipe = self._redis.pipeline(transaction=False)
                pipe.publish(BREAKERS_CHANNEL, f"{self._origin} {endpoint_id} {state}")
                if state == OPEN:
                    pipe.hset(OPEN_BREAKERS_KEY, str(endpoint_id), f"{at:.0f} {self._origin}")
                else:
                    pipe.hdel(OPEN_BREAKERS_KEY, str(endpoint_id))
                await pipe.execute()
        except Exception as exc:
            self._throttle.warning("breaker broadcast: Redis unavailable (%s)",
                                   type(exc).__name__)

    def on_message(self, data: str) -> None:
        origin, endpoint_id, state = data.split(" ")
        if origin != self._origin:
            self._breakers.apply_remote(int(endpoint_id), state)
