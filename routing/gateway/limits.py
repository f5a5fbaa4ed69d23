"""Per-key and per-org rate limits: requests and tokens per minute, atomic across processes.

Fixed one-minute windows. Admission checks all four counters and, only if every one has room,
counts the request, in ONE Redis Lua call (atomic across gateway processes: never more admitted
than the limit), or under the event loop's single thread in-process when there is no Redis.
Tokens are only known after the answer, so a window's token count is checked at admission (a
key that used up its minute waits) and incremented once the request settles; those increments
are batched off the request path.

A busy key does not pay a Redis call per request: each call leases up to `LEASE_MAX`
admissions (counted in Redis at once, so never more admitted than the limit), which this
process then spends without asking. A lease starts at one admission in each window and doubles
with each call, and is at most 1/`LEASE_SHARE` of the smaller request limit, so keys with
limits under that many requests a minute ask Redis every time, exactly as before. What a lease
costs: admissions leased but unspent when the minute ends are lost (at most 1% of the limit a
process), and the token counters are checked once per lease rather than per request.

The read routes (GET /v1/...) count in their own per-key bucket, and failed authentications
in one per client address (routing/gateway/abuse.py). Every Redis call goes through one
breaker: a down or hung Redis costs a few calls of at most the client's short timeout, then
this process counts in memory until a probe finds Redis again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

from core.breaker import Breaker
from core.errors import RateLimited
from routing.gateway.config import LimitConfig
from routing.gateway.redis_protocol import RedisReplyError, Reply, RespClient

log = logging.getLogger(__name__)
WINDOW_S = 60

# KEYS: key rpm, org rpm, key tpm, org tpm. ARGV: key rpm limit, org rpm limit, key tpm limit,
# org tpm limit, ttl, admissions wanted. Returns {0, granted} when admitted (at least one, at most
# what both request counters have room for), else {which (1..4), 0} naming the first exhausted
# counter.
ADMIT_LUA = """
local counts = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
for i = 1, 4 do
  if tonumber(counts[i] or '0') >= tonumber(ARGV[i]) then return {i, 0} end
end
local grant = math.min(tonumber(ARGV[6]),
                       tonumber(ARGV[1]) - tonumber(counts[1] or '0'),
                       tonumber(ARGV[2]) - tonumber(counts[2] or '0'))
local kr = redis.call('INCRBY', KEYS[1], grant)
local orr = redis.call('INCRBY', KEYS[2], grant)
if kr == grant then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if orr == grant then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
return {0, grant}
"""
ADMIT_SHA = hashlib.sha1(ADMIT_LUA.encode()).hexdigest()  # noqa: S324  (Redis names scripts so)

# KEYS: one counter. ARGV: ttl. Counts one more and returns the new count.
COUNT_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
COUNT_SHA = hashlib.sha1(COUNT_LUA.encode()).hexdigest()  # noqa: S324
_REDIS_DOWN = (OSError, TimeoutError, RedisReplyError)
LEASE_MAX = 32  # admissions one Redis call may lease
LEASE_SHARE = 100  # a lease is at most 1/LEASE_SHARE of the smaller request limit


def _integer(reply: Reply) -> int:
    """An integer reply, or a counter's value as GET returns it (digits; nil is 0)."""
    if isinstance(reply, int):
        return reply
    if isinstance(reply, bytes):
        return int(reply or 0)
    if reply is None:
        return 0
    raise RedisReplyError(f"expected an integer reply, got {reply!r}")

_WHICH = {1: ("key", "requests"), 2: ("org", "requests"), 3: ("key", "tokens"),
          4: ("org", "tokens")}


@dataclass(slots=True)
class Lease:
    """Admissions this process took from Redis for one key, org and window, not yet spent."""

    limits: tuple[int, int, int, int]
    remaining: int
    size: int  # what the next call asks for


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
    return refusal(scope, unit, limits[which - 1], reset_epoch)


def refusal(scope: str, unit: str, limit: int, reset_epoch: int,
            message: str | None = None) -> RateLimited:
    """The 429 for a spent one-minute window, with Retry-After and X-RateLimit-* headers."""
    retry_after = max(1, reset_epoch - int(time.time()))
    return RateLimited(
        message or f"Rate limit exceeded: this {scope} may use {limit} {unit} per minute.",
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
                 flush_s: float = 0.25, breaker_failures: int = 3,
                 breaker_reset_s: float = 5.0):
        self._config = config
        self._redis = redis
        self._breaker = Breaker("rate limiter", log, threshold=breaker_failures,
                                reset_s=breaker_reset_s)
        self._local: dict[str, int] = {}
        self._local_window = 0
        self._pending_tokens: dict[str, int] = {}
        self._flush_s = flush_s
        self._leases: dict[tuple[int, int], Lease] = {}
        self._leases_window = 0

    def _limits(self, key_id: int, org_id: int, key_rpm: int | None,
                key_tpm: int | None) -> tuple[int, int, int, int]:
        default_rpm, default_tpm = self._config.for_key(key_id)
        org_rpm, org_tpm = self._config.for_org(org_id)
        return (default_rpm if key_rpm is None else key_rpm, org_rpm,
                default_tpm if key_tpm is None else key_tpm, org_tpm)

    async def admit(self, key_id: int, org_id: int, *, key_rpm: int | None = None,
                    key_tpm: int | None = None) -> None:
        """`key_rpm`/`key_tpm`: the key policy's limits, which win over the operator's default
        for the key (GATEWAY_LIMIT_OVERRIDES, then GATEWAY_KEY_RPM/TPM); None keeps it."""
        window = int(time.time()) // WINDOW_S
        limits = self._limits(key_id, org_id, key_rpm, key_tpm)
        if window != self._leases_window:
            self._leases.clear()
            self._leases_window = window
        lease = self._leases.get((key_id, org_id))
        if lease is not None and lease.remaining and lease.limits == limits:
            lease.remaining -= 1
            return
        size = 1 if lease is None or lease.limits != limits else lease.size
        names = _names(window, key_id, org_id)
        keys = (names.key_rpm, names.org_rpm, names.key_tpm, names.org_tpm)
        reply = await self._eval(ADMIT_SHA, ADMIT_LUA, keys, (*limits, WINDOW_S + 5, size))
        if reply is None:
            which = self._admit_local(names, limits)
        elif isinstance(reply, list) and len(reply) == 2:
            which = _integer(reply[0])
            if not which:
                self._lease(key_id, org_id, window, limits, size, _integer(reply[1]))
        else:
            raise RedisReplyError(f"unexpected admission reply {reply!r}")
        if which:
            raise _refusal(which, limits, (window + 1) * WINDOW_S)

    def _lease(self, key_id: int, org_id: int, window: int, limits: tuple[int, int, int, int],
               size: int, granted: int) -> None:
        """Keep what Redis granted beyond this request; the next call may ask for twice as many."""
        if window != self._leases_window:  # the minute turned during the call
            return
        cap = max(1, min(LEASE_MAX, min(limits[0], limits[1]) // LEASE_SHARE))
        lease = self._leases.get((key_id, org_id))
        if lease is None or lease.limits != limits:
            lease = self._leases[key_id, org_id] = Lease(limits, 0, size)
        # Concurrent calls for one key each lease: what they got adds up.
        lease.remaining += max(0, granted - 1)
        lease.size = min(cap, size * 2)

    async def _eval(self, sha: str, lua: str, keys: tuple[str, ...],
                    args: tuple[int, ...]) -> Reply:
        """The script's reply, or None when Redis is absent, down or hung (count locally)."""
        redis, breaker = self._redis, self._breaker
        if redis is None or not breaker.allow():
            return None
        try:
            try:
                reply = await redis.call("EVALSHA", sha, len(keys), *keys, *args)
            except RedisReplyError as exc:
                if "NOSCRIPT" not in str(exc):
                    raise
                reply = await redis.call("EVAL", lua, len(keys), *keys, *args)
        except _REDIS_DOWN as exc:
            breaker.failure(exc)
            return None
        breaker.success()
        return reply

    def _local_counters(self, window: int) -> dict[str, int]:
        if window != self._local_window:
            self._local.clear()
            self._local_window = window
        return self._local

    async def count(self, name: str) -> tuple[int, int]:
        """Count one event on the per-minute counter `name`: (count so far, window reset epoch).

        Shared through Redis when it answers, else this process's own count.
        """
        window = int(time.time()) // WINDOW_S
        full = f"sy:rl:{window}:{name}"
        reply = await self._eval(COUNT_SHA, COUNT_LUA, (full,), (WINDOW_S + 5,))
        if reply is None:
            counters = self._local_counters(window)
            count = counters[full] = counters.get(full, 0) + 1
            return count, (window + 1) * WINDOW_S
        return _integer(reply), (window + 1) * WINDOW_S

    async def peek(self, name: str) -> tuple[int, int]:
        """The per-minute counter `name` without counting: (count so far, window reset epoch)."""
        window = int(time.time()) // WINDOW_S
        full = f"sy:rl:{window}:{name}"
        count = None
        if self._redis is not None and self._breaker.allow():
            try:
                reply = await self._redis.call("GET", full)
            except _REDIS_DOWN as exc:
                self._breaker.failure(exc)
            else:
                self._breaker.success()
                count = _integer(reply)
        if count is None:
            count = self._local_counters(window).get(full, 0)
        return count, (window + 1) * WINDOW_S

    async def admit_read(self, key_id: int) -> None:
        """Count one read-route request of `key_id`; 429 past GATEWAY_KEY_READ_RPM."""
        limit = self._config.key_read_rpm
        count, reset_epoch = await self.count(f"k{key_id}:g")
        if count > limit:
            raise refusal("key", "read requests", limit, reset_epoch)

    def _admit_local(self, names: Window, limits: tuple[int, int, int, int]) -> int:
        counters = self._local_counters(names.window)
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
        target = (self._local_counters(names.window) if self._redis is None or
                  self._breaker.is_open else self._pending_tokens)
        for name in (names.key_tpm, names.org_tpm):
            target[name] = target.get(name, 0) + tokens

    async def flush_tokens(self) -> None:
        if not self._pending_tokens or self._redis is None:
            return
        pending, self._pending_tokens = self._pending_tokens, {}
        if not self._breaker.allow():
            self._count_locally(pending)
            return
        call = self._redis.call
        try:
            # Issued back to back on one connection: Redis pipelines them.
            await asyncio.gather(*(call(*command) for name, tokens in pending.items()
                                   for command in (("INCRBY", name, tokens),
                                                   ("EXPIRE", name, WINDOW_S + 5))))
        except _REDIS_DOWN as exc:  # the breaker logs it; this process counts them meanwhile
            self._breaker.failure(exc)
            self._count_locally(pending)
        else:
            self._breaker.success()

    def _count_locally(self, pending: dict[str, int]) -> None:
        counters = self._local_counters(int(time.time()) // WINDOW_S)
        for name, tokens in pending.items():
            counters[name] = counters.get(name, 0) + tokens

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_s)
            await self.flush_tokens()

    async def close(self) -> None:
        await self.flush_tokens()
        if self._redis is not None:
            self._redis.close()
