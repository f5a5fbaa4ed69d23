"""Per-key and per-org rate limits: requests and tokens per minute, atomic across processes.

Fixed one-minute windows. Admission checks all four counters and, only if every one has room,
counts the request, in ONE Redis Lua call (atomic across gateway processes: never more admitted
than the limit), or under the event loop's single thread in-process when there is no Redis.
Tokens are only known after the answer, so a window's token count is checked at admission (a
key that used up its minute waits) and incremented once the request settles; those increments
are batched off the request path.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

from marketplace.errors import RateLimited
from routing.gateway.config import LimitConfig
from routing.gateway.resp import RedisReplyError, RespClient

log = logging.getLogger(__name__)
WINDOW_S = 60

# KEYS: key rpm, org rpm, key tpm, org tpm. ARGV: key rpm limit, org rpm limit, key tpm limit,
# org tpm limit, ttl. Returns {0, key rpm remaining, org rpm remaining} when admitted, else
# {which (1..4), 0, 0} naming the first exhausted counter.
ADMIT_LUA = """
local counts = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
for i = 1, 4 do
  if tonumber(counts[i] or '0') >= tonumber(ARGV[i]) then return {i, 0, 0} end
end
local kr = redis.call('INCR', KEYS[1])
local orr = redis.call('INCR', KEYS[2])
if kr == 1 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if orr == 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
return {0, tonumber(ARGV[1]) - kr, tonumber(ARGV[2]) - orr}
"""
ADMIT_SHA = hashlib.sha1(ADMIT_LUA.encode()).hexdigest()  # noqa: S324  (Redis names scripts so)

_WHICH = {1: ("key", "requests"), 2: ("org", "requests"), 3: ("key", "tokens"),
          4: ("org", "tokens")}


@dataclass(slots=True)
class Window:
    window: int
    key_rpm: str
    org_rpm: str
    key_tpm: str
    org_tpm: str


def _names(window: int, key_id: int, org_id: int) -> Window:
    prefix = f"sy:rl:{window}:"
    return Window(window, f"{prefix}k{key_id}:r", f"{prefix}o{org_id}:r",
                  f"{prefix}k{key_id}:t", f"{prefix}o{org_id}:t")


def _refusal(which: int, limits: tuple[int, int, int, int], reset_epoch: int) -> RateLimited:
    scope, unit = _WHICH[which]
    limit = limits[which - 1]
    retry_after = max(1, reset_epoch - int(time.time()))
    return RateLimited(
        f"Rate limit exceeded: this {scope} may use {limit} {unit} per minute.",
        metadata={"limit_scope": scope, "limit_unit": unit, "limit": limit,
                  "retry_after": retry_after},
        headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit),
                 "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_epoch * 1000)},
    )


class Limiter:
    """`await admit(key_id, org_id)` raises RateLimited (429) or counts the request.

    With Redis unreachable it degrades to this process's own counters (logged) rather than
    refusing every request: limits protect providers, they must not take the API down.
    """

    def __init__(self, config: LimitConfig, redis: RespClient | None = None,
                 flush_s: float = 0.25):
        self._config = config
        self._redis = redis
        self._local: dict[str, int] = {}
        self._local_window = 0
        self._pending_tokens: dict[str, int] = {}
        self._flush_s = flush_s

    def _limits(self, key_id: int, org_id: int) -> tuple[int, int, int, int]:
        key_rpm, key_tpm = self._config.for_key(key_id)
        org_rpm, org_tpm = self._config.for_org(org_id)
        return key_rpm, org_rpm, key_tpm, org_tpm

    async def admit(self, key_id: int, org_id: int) -> None:
        window = int(time.time()) // WINDOW_S
        names = _names(window, key_id, org_id)
        limits = self._limits(key_id, org_id)
        reset_epoch = (window + 1) * WINDOW_S
        if self._redis is None:
            which = self._admit_local(names, limits)
        else:
            try:
                which = await self._admit_redis(names, limits)
            except (OSError, TimeoutError, RedisReplyError):
                log.warning("rate limiter cannot reach Redis; counting in-process",
                            exc_info=True)
                which = self._admit_local(names, limits)
        if which:
            raise _refusal(which, limits, reset_epoch)

    async def _admit_redis(self, names: Window, limits: tuple[int, int, int, int]) -> int:
        keys = (names.key_rpm, names.org_rpm, names.key_tpm, names.org_tpm)
        try:
            reply = await self._redis.call("EVALSHA", ADMIT_SHA, 4, *keys, *limits,
                                           WINDOW_S + 5)
        except RedisReplyError as exc:
            if "NOSCRIPT" not in str(exc):
                raise
            reply = await self._redis.call("EVAL", ADMIT_LUA, 4, *keys, *limits, WINDOW_S + 5)
        return reply[0]

    def _admit_local(self, names: Window, limits: tuple[int, int, int, int]) -> int:
        counters = self._local
        if names.window != self._local_window:
            counters.clear()
            self._local_window = names.window
        keys = (names.key_rpm, names.org_rpm, names.key_tpm, names.org_tpm)
        for i, name in enumerate(keys):
            if counters.get(name, 0) >= limits[i]:
                return i + 1
        counters[names.key_rpm] = counters.get(names.key_rpm, 0) + 1
        counters[names.org_rpm] = counters.get(names.org_rpm, 0) + 1
        return 0

    def add_tokens(self, key_id: int, org_id: int, tokens: int) -> None:
        """Count a settled request's tokens (batched to Redis; immediate in-process)."""
        if tokens <= 0:
            return
        names = _names(int(time.time()) // WINDOW_S, key_id, org_id)
        target = self._local if self._redis is None else self._pending_tokens
        if self._redis is None and names.window != self._local_window:
            target.clear()
            self._local_window = names.window
        for name in (names.key_tpm, names.org_tpm):
            target[name] = target.get(name, 0) + tokens

    async def flush_tokens(self) -> None:
        if not self._pending_tokens or self._redis is None:
            return
        pending, self._pending_tokens = self._pending_tokens, {}
        call = self._redis.call
        try:
            # Issued back to back on one connection: Redis pipelines them.
            await asyncio.gather(*(call(*command) for name, tokens in pending.items()
                                   for command in (("INCRBY", name, tokens),
                                                   ("EXPIRE", name, WINDOW_S + 5))))
        except Exception:  # limits degrade to request counts while Redis is away
            log.warning("could not flush token counts to Redis", exc_info=True)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_s)
            await self.flush_tokens()

    async def close(self) -> None:
        await self.flush_tokens()
        if self._redis is not None:
            self._redis.close()
