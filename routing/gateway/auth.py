"""Org-key authentication with a short-TTL in-process cache and Redis revocation fan-out.

A presented key is hashed (tenancy's keyed hash) and looked up in a per-process cache whose
entries live at most `ttl_s` (<= 1 s), so a revocation takes effect within a second even
without Redis; with Redis, tenancy publishes the revoked key's hash and every gateway process
drops the entry at once (routing/gateway/pubsub.py). Misses go to the database in a small
thread pool, coalesced so N concurrent requests with the same key cause one lookup. The cache
holds at most `max_entries` keys and evicts the least recently used, so a flood of garbage
keys cannot push out the keys in use. Anything but a cached valid key first asks the failed-
authentication guard (routing/gateway/abuse.py), before any database read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from core.compliance_rules import NO_RULES, CallerRules
from core.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext

log = logging.getLogger(__name__)

INFERENCE_SCOPE = "inference"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request."""

    key_id: int
    org_id: int
    scope: str
    name: str
    prefix: str
    expires_at_epoch: float | None  # None: never expires
    # The org's and key's policies and the org's BYOK keys, loaded with the key.
    rules: CallerRules = NO_RULES


class KeyAuth(Protocol):
    """What the key lookup returns (tenancy's selectors.KeyAuth, read through seams)."""

    @property
    def key_id(self) -> int: ...
    @property
    def org_id(self) -> int: ...
    @property
    def scope(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def expires_at(self) -> dt.datetime | None: ...
    @property
    def revoked(self) -> bool: ...


class AuthGuard(Protocol):
    async def check(self, who: RequestContext | None) -> None: ...
    async def failed(self, who: RequestContext | None) -> None: ...


def bearer_token(headers: dict[bytes, bytes], *, allow_x_api_key: bool) -> str | None:
    value = headers.get(b"authorization")
    if value is not None:
        scheme, _, token = value.decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    if allow_x_api_key:
        value = headers.get(b"x-api-key")
        if value:
            return value.decode("latin-1").strip()
    return None


class KeyCache:
    """hash -> (Caller | None, expires_monotonic); None caches an unknown key as briefly.

    `guard` (optional) has `async check(who)` (raises to refuse before any lookup) and
    `async failed(who)` (counts a failed authentication); `who` is what `authenticate` got.
    `rules` (optional) loads a valid key's compliance rules in the same database job, so a
    policy or BYOK change reaches the gateway exactly as fast as a revocation does.
    """

    def __init__(self, *, lookup: Callable[[str], KeyAuth | None], hasher: Callable[[str], str],
                 shape_ok: Callable[[str], bool], executor: Executor, ttl_s: float,
                 max_entries: int = 100_000, guard: AuthGuard | None = None,
                 rules: Callable[[int, int], CallerRules] | None = None):
        self._lookup = lookup  # sync: key_hash -> KeyAuth | None (tenancy's selector)
        self._rules = rules  # sync: (org_id, key_id) -> CallerRules (compliance's selector)
        self._hasher = hasher
        self._shape_ok = shape_ok
        self._executor = executor
        self._ttl_s = min(ttl_s, 1.0)
        self._max_entries = max(1, max_entries)
        self._guard = guard
        # hash -> (caller or None, refresh after, expires at), monotonic seconds; LRU order
        self._entries: OrderedDict[str, tuple[Caller | None, float, float]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Caller | None]] = {}
        self._refreshing: set[asyncio.Task[Caller | None]] = set()

    def invalidate(self, key_hash: str) -> None:
        self._entries.pop(key_hash, None)

    def invalidate_org(self, org_id: str) -> None:
        """Drop every cached key of the org (its compliance rules changed)."""
        org = int(org_id)
        stale = [h for h, (caller, _, _) in self._entries.items()
                 if caller is not None and caller.org_id == org]
        for key_hash in stale:
            self._entries.pop(key_hash, None)

    def _read(self, key_hash: str) -> Caller | None:
        """One database job: the key, then (if it is valid) its compliance rules."""
        auth = self._lookup(key_hash)
        if auth is None or auth.revoked:
            return None
        rules = self._rules(auth.org_id, auth.key_id) if self._rules is not None else NO_RULES
        return Caller(
            key_id=auth.key_id, org_id=auth.org_id, scope=auth.scope, name=auth.name,
            prefix=auth.prefix,
            expires_at_epoch=auth.expires_at.timestamp() if auth.expires_at else None,
            rules=rules,
        )

    async def authenticate(self, token: str | None, *, need_scope: str = INFERENCE_SCOPE,
                           who: RequestContext | None = None) -> Caller:
        """The caller for `token`; 401 for missing/unknown/revoked/expired, 403 wrong scope.

        429 instead when `who` (the request, for the guard) failed too often this minute.
        """
        key_hash = self._hasher(token) if token and self._shape_ok(token) else None
        entries = self._entries
        entry = entries.get(key_hash) if key_hash is not None else None
        now = time.monotonic()
        if key_hash is not None and entry is not None and entry[2] > now \
                and entry[0] is not None:
            caller = entry[0]
            entries.move_to_end(key_hash)
            if entry[1] <= now and key_hash not in self._inflight:
                # Refresh ahead in the background: a busy key never waits on the database,
                # and a revocation still lands within the TTL.
                task = asyncio.get_running_loop().create_task(self._load(key_hash))
                self._refreshing.add(task)
                task.add_done_callback(self._refreshed)
        else:
            caller = await self._guarded(key_hash, entry, now, who)
        if caller.expires_at_epoch is not None and caller.expires_at_epoch <= time.time():
            raise Unauthenticated("This API key has expired.")
        if caller.scope != need_scope:
            raise Forbidden(f"This key has the {caller.scope} scope; /v1 needs an "
                            f"{need_scope} key.")
        return caller

    async def _guarded(self, key_hash: str | None,
                       entry: tuple[Caller | None, float, float] | None, now: float,
                       who: RequestContext | None) -> Caller:
        guard = self._guard
        if guard is not None:
            await guard.check(who)
        try:
            if key_hash is None:
                raise Unauthenticated("Missing or malformed API key.")
            caller = entry[0] if entry is not None and entry[2] > now else \
                await self._load(key_hash)
            if caller is None:
                raise Unauthenticated("Invalid or revoked API key.")
        except Unauthenticated:
            if guard is not None:
                await guard.failed(who)
            raise
        return caller

    def _refreshed(self, task: asyncio.Task[Caller | None]) -> None:
        self._refreshing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background key refresh failed", exc_info=task.exception())

    async def _load(self, key_hash: str) -> Caller | None:
        pending = self._inflight.get(key_hash)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Caller | None] = loop.create_future()
        self._inflight[key_hash] = future
        # Validity counts from when the read began: a key revoked after that read stops
        # working at most `ttl_s` after the revocation, however slow the lookup was.
        started = time.monotonic()
        try:
            caller = await loop.run_in_executor(self._executor, self._read, key_hash)
            entries = self._entries
            entries[key_hash] = (caller, started + self._ttl_s / 2, started + self._ttl_s)
            entries.move_to_end(key_hash)
            while len(entries) > self._max_entries:  # bounded: evict the least recently used
                entries.popitem(last=False)
            future.set_result(caller)
            return caller
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._inflight.pop(key_hash, None)


class LastUsedRecorder:
    """Collects key_id -> last use, flushed every few seconds through tenancy's service."""

    def __init__(self, record: Callable[[dict[int, dt.datetime]], object] | None,
                 executor: Executor,
                 interval_s: float = 5.0):
        self._record = record
        self._executor = executor
        self._interval_s = interval_s
        self._pending: dict[int, float] = {}

    def touch(self, key_id: int) -> None:
        self._pending[key_id] = time.time()

    async def flush(self) -> None:
        if not self._pending or self._record is None:
            return
        batch = {k: dt.datetime.fromtimestamp(t, tz=dt.UTC) for k, t in self._pending.items()}
        self._pending = {}
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._record, batch)
        except Exception:
            log.warning("could not record key last_used_at", exc_info=True)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()
