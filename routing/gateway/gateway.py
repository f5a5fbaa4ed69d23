"""The one `Gateway` object: built at lifespan start-up, owns every long-lived resource.

It holds the thread pool for the few database reads that cannot be served from memory, the
Redis client, the key cache, the routing snapshot, the limiter, the billing writer and the
upstream engine. Nothing mutable lives at module level, so two gateways (two tests, two
lifespans) never share state.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import redis.asyncio as aioredis
from structlog.contextvars import bound_contextvars

from core.errors import NotFound, SwitchyardError
from routing.breakers import Breakers
from routing.engine import Upstream
from routing.gateway import metrics, pubsub, routes, seams
from routing.gateway.abuse import AuthFailureGuard, parse_networks
from routing.gateway.auth import Caller, KeyCache, LastUsedRecorder, bearer_token
from routing.gateway.byok import ByokRejections
from routing.gateway.config import GatewayConfig
from routing.gateway.content import content_queue
from routing.gateway.context import RequestContext
from routing.gateway.dbthreads import UNAVAILABLE_ERRORS, DatabaseExecutor, database_unavailable
from routing.gateway.http import ClientDisconnected, Receive, Scope, Send, send_error
from routing.gateway.labels import TaskLabeller
from routing.gateway.limits import Limiter
from routing.gateway.records import RequestRecorder, finish_record
from routing.gateway.redis_protocol import RespClient
from routing.gateway.seams import create_writer
from routing.gateway.snapshot import SnapshotHolder
from routing.health import Health

log = logging.getLogger(__name__)
# Under several workers, how often each copies its holds, queues and breakers for /metrics.
_STATE_SAMPLE_S = 5.0
T = TypeVar("T")
P = ParamSpec("P")
# At shutdown, how long the request records and content still queued may take to store.
WRITE_ON_CLOSE_S = 10.0


class Gateway:
    def __init__(self, config: GatewayConfig):
        self.config = config
        # Database reads (key lookups, snapshot builds, last-used writes) run here: bounded,
        # so the gateway never holds more than a couple of database connections. Each job
        # returns its connection to the pool (a dead one is replaced) and a caller waits at
        # most `db_timeout_s` (then 503); the snapshot's background rebuild waits as long as
        # it takes.
        self._db_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gw-db")
        self.db_executor = DatabaseExecutor(self._db_threads, config.db_timeout_s)
        self.limiter = Limiter(
            config.limits,
            RespClient(config.redis_url, config.redis_timeout_s) if config.redis_url else None,
            breaker_failures=config.redis_breaker_failures,
            breaker_reset_s=config.redis_breaker_reset_s)
        self.keys = KeyCache(lookup=seams.get_key_auth, hasher=seams.hash_api_key,
                             shape_ok=seams.looks_like_api_key, executor=self.db_executor,
                             ttl_s=config.key_cache_ttl_s, max_entries=config.key_cache_max,
                             guard=AuthFailureGuard(self.limiter,
                                                    config.limits.auth_failures_per_min,
                                                    parse_networks(config.trusted_proxies)),
                             rules=seams.get_caller_rules)
        self.last_used = LastUsedRecorder(seams.record_keys_used, self.db_executor,
                                          config.last_used_flush_s)
        self.catalog = SnapshotHolder(DatabaseExecutor(self._db_threads, None),
                                      config.sandbox_base_url, config.snapshot_poll_s)
        self.redis = aioredis.Redis.from_url(config.redis_url) if config.redis_url else None
        breakers = Breakers()
        self.upstream = Upstream(Health(breakers), attempt_timeout_s=config.attempt_timeout_s,
                                 stream_idle_timeout_s=config.stream_idle_timeout_s,
                                 allowed_networks=config.upstream_allowed_networks)
        self.writer = create_writer()
        # Signed receipts' keys, newest first: loaded once (a development key is generated on
        # the first start without RECEIPT_SIGNING_KEYS; compliance/receipts.py).
        self.receipt_keys = seams.signing_keys()
        # Rows stored after the answer (content, request records) have a thread of their own
        # that waits as long as an insert takes: on the shared threads, an insert the database
        # does not answer (frozen) would be retried every second into new threads until key
        # lookups had none left.
        self._write_threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-write")
        write_executor = DatabaseExecutor(self._write_threads, None)
        self.content = content_queue(seams.store_contents, write_executor)
        # Every inference request's record, labelled with its task in a thread of its own.
        self.labeller = TaskLabeller(enabled=config.task_labels)
        self.requests = RequestRecorder(seams.store_request_records, write_executor,
                                        self.labeller,
                                        max_labelling=config.task_label_max_pending)
        # BYOK keys a provider refused (401): reported off the request path.
        self.byok_rejections = ByokRejections(self.db_executor, seams.mark_byok_rejected)
        # The ranking's one generator for every request (the policy stays pure and takes it
        # as an argument): a new one per request costs an os.urandom call and 2.5 KB of state,
        # and a fair draw needs no more than one shared stream.
        self.rng = random.Random()
        self._tasks: list[asyncio.Task[None]] = []
        if self.redis is not None:
            broadcast = pubsub.BreakerBroadcast(self.redis, breakers)
            breakers.publisher = broadcast.publish
            self._channels = {seams.REVOKED_KEYS_CHANNEL: self.keys.invalidate,
                              seams.COMPLIANCE_CHANGED_CHANNEL: self.keys.invalidate_org,
                              pubsub.BREAKERS_CHANNEL: broadcast.on_message}

    async def start(self) -> None:
        await self.writer.start()
        await self.upstream.start()
        await self.catalog.refresh(force=True)
        self.labeller.warm()
        spawn = asyncio.get_running_loop().create_task
        if self.redis is not None:
            self._tasks.append(spawn(pubsub.listen(self.redis, self._channels)))
        self._tasks.append(spawn(self.catalog.run()))
        self._tasks.append(spawn(self.last_used.run()))
        self._tasks.append(spawn(self.content.run()))
        self._tasks.append(spawn(self.requests.run()))
        self._tasks.append(spawn(self.requests.run_floods()))
        self._tasks.append(spawn(self.requests.run_labels()))
        self._tasks.append(spawn(self.limiter.run()))
        if self.config.metrics_enabled and self.config.metrics_multiprocess:
            self._tasks.append(spawn(metrics.sample_state(self, _STATE_SAMPLE_S)))
        # Everything loaded so far (Django, the catalog snapshot) lives as long as the process:
        # moving it out of the collector's generations keeps each GC pass proportional to
        # what requests allocate, not to the ~10^5 objects of the framework.
        gc.freeze()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.last_used.flush()
        # Rows owed after answers: written unless the database does not answer in time.
        try:
            await asyncio.wait_for(self._store_owed_rows(), WRITE_ON_CLOSE_S)
        except TimeoutError:
            log.warning("request records and content not stored at shutdown: "
                        "%d and %d rows", len(self.requests), len(self.content))
        await asyncio.get_running_loop().run_in_executor(None, self.labeller.close)
        await self.byok_rejections.close()
        await self.limiter.close()
        await self.upstream.close()
        await self.writer.close()
        if self.redis is not None:
            await self.redis.aclose()
        self._db_threads.shutdown(wait=True)
        self._write_threads.shutdown(wait=False)  # an insert still hung is abandoned

    async def _store_owed_rows(self) -> None:
        await self.content.flush()
        await self.requests.close()

    async def in_thread(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking database read in the gateway's bounded pool (in this request's
        context, so its log lines carry the request id)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.db_executor,
            functools.partial(contextvars.copy_context().run, fn, *args, **kwargs))

    async def authenticate(self, ctx: RequestContext, *,
                           allow_x_api_key: bool = False) -> Caller:
        caller = await self.keys.authenticate(
            bearer_token(ctx.headers, allow_x_api_key=allow_x_api_key), who=ctx)
        self.last_used.touch(caller.key_id)
        if ctx.scope["method"] == "GET":  # every GET under /v1 is a read route: own bucket
            await self.limiter.admit_read(caller.key_id)
        return caller

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = RequestContext.from_scope(scope, receive, send)
        # Every line logged while serving this request carries its id (marketplace/logs.py).
        with bound_contextvars(request_id=ctx.request_id):
            await self._handle(ctx, scope, send)

    async def _handle(self, ctx: RequestContext, scope: Scope, send: Send) -> None:
        error: SwitchyardError | None = None
        disconnected = False
        try:
            handler = routes.resolve(scope["method"], scope["path"])
            if handler is None:
                raise NotFound(f"No route for {scope['method']} {scope['path']}.")
            await handler(self, ctx)
        except SwitchyardError as exc:
            error = exc
        except UNAVAILABLE_ERRORS as exc:
            # A database error no narrower handler caught: the caller should retry, not see 500.
            error = database_unavailable(exc)
        except ClientDisconnected:
            disconnected = True
        except Exception:
            # 500s are masked, as OpenRouter does; the traceback goes to our log only.
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            error = SwitchyardError()
        try:
            if error is not None:
                await send_error(send, error, ctx.response_headers())
        finally:
            if ctx.record is not None:
                finish_record(ctx.record, ctx, error or ctx.answered_error,
                              disconnected=disconnected)
                if self.config.metrics_enabled:
                    metrics.observe_record(self, ctx.record, ctx)
                self.requests.record(ctx.record, ctx.label_body)
