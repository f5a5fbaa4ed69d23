"""Settlement batching shared by both writers: collect for a short window, flush as one write.

`settle()` only enqueues, so no request waits for a window or a commit; a background task
flushes whatever arrived within `window_ms` of the first pending settlement, in chunks of at
most `max_batch`. Settlements are safe to replay (SETTLE_BATCH closes only holds still open and
inserts usage with ON CONFLICT DO NOTHING), so when the database is unreachable a batch stays
queued and is retried with backoff until it is written: a database restart loses no charge.
A batch the database refuses for another reason is tried row by row, so one bad row cannot
sink its neighbours; only such a row is logged by request id and left to the stale-hold sweep.

The queue is bounded: at 80% of `pending_max` a warning is logged, and at the bound new
admissions get a 503 (a settlement already owed is never dropped). A hold or release that
gets no answer within `db_timeout_s` (a hung server) is a 503 / a replayed release.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

from billing.hotpath import Admission, Settlement
from core.errors import ServiceUnavailable

logger = logging.getLogger("billing.hotpath")

_BACKOFF_FIRST_S = 0.05
_BACKOFF_CAP_S = 2.0

T = TypeVar("T")


class BatchOptions(TypedDict, total=False):
    """BatchingWriter's keyword options, which every writer passes on."""

    window_ms: int
    max_batch: int
    pending_max: int
    db_timeout_s: float | None
    shutdown_flush_s: float


class WriterOptions(BatchOptions, total=False):
    """`create_writer(**options)`: the batching options and the PostgreSQL writer's pool size."""

    pool_max: int  # the SQLite writer has one thread and ignores it


@dataclass(slots=True)
class WriterStats:
    """Counters a health check or a test reads (`writer.stats`)."""

    retries: int = 0  # writes (settlements, releases) retried: the database was unreachable
    releases_replayed: int = 0  # releases written after a failed or unanswered first try
    refused_admissions: int = 0  # holds refused with 503 (database down or queue full)
    lost: int = 0  # settlements given to the stale-hold sweep (bad row, or shutdown deadline)
    backlog_high_water: int = 0  # most settlements unwritten at once


class BatchingWriter:
    """The HotPathWriter shape; subclasses supply the three database operations."""

    # Errors meaning "the database is unreachable": retried, never fatal. Backends extend it.
    transient_errors: tuple[type[BaseException], ...] = (ServiceUnavailable,)

    # The knobs without defaults are settings (billing.hotpath.writer_settings() reads them).
    def __init__(self, *, window_ms: int, pending_max: int, shutdown_flush_s: float,
                 max_batch: int = 500, db_timeout_s: float | None = None):
        self._window_s = window_ms / 1000
        self._max_batch = max_batch
        self._pending_max = pending_max
        self._db_timeout_s = db_timeout_s
        self._shutdown_flush_s = shutdown_flush_s
        self._pending: list[Settlement] = []
        self._inflight = 0  # settlements in the batch being written (read-your-writes waits)
        self._open_holds = 0  # granted, not yet settled or released (for /metrics)
        self._releases: list[str] = []  # request ids whose release must be replayed
        self._give_up_at: float | None = None  # loop time; set by close()
        self._warned_full = False
        self.stats = WriterStats()
        # Made again by start(): each run gets primitives bound to its own event loop.
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- operations a backend implements -------------------------------------------------
    async def _open(self) -> None:
        raise NotImplementedError

    async def _shutdown(self) -> None:
        raise NotImplementedError

    async def _hold(self, admission: Admission) -> int:
        raise NotImplementedError

    async def _settle_batch(self, batch: Sequence[Settlement]) -> int:
        raise NotImplementedError

    async def _release(self, request_id: str) -> bool:
        raise NotImplementedError

    # --- the contract ----------------------------------------------------------------------
    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        await self._open()
        self._task = asyncio.create_task(self._flush_loop(), name="billing-settle-flusher")

    async def close(self) -> None:
        if self._task is not None:
            loop = asyncio.get_running_loop()
            self._give_up_at = loop.time() + self._shutdown_flush_s
            flushing = asyncio.ensure_future(self.flush())
            # The same replay as at run time, bounded by the deadline even if a statement hangs.
            await asyncio.wait((flushing,), timeout=self._shutdown_flush_s + 1)
            if not flushing.done():
                flushing.cancel()
                flushing.add_done_callback(_consume)
            if self._pending:
                self._log_lost(list(self._pending), None)
                self._pending.clear()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._shutdown()

    async def hold(self, admission: Admission) -> int:
        if self.pending >= self._pending_max:
            self.stats.refused_admissions += 1
            logger.error("settlement queue full (%d unwritten): refusing new admissions",
                         self.pending)
            raise ServiceUnavailable("Billing is catching up; retry in a few seconds.")
        try:
            granted = await self._bounded(
                self._hold(admission),
                late=lambda _granted: self._queue_release(admission.request_id))
        except self.transient_errors as exc:
            self.stats.refused_admissions += 1
            raise _unavailable(exc) from exc
        self._open_holds += 1
        return granted

    async def settle(self, settlement: Settlement) -> None:
        self._closed_one()
        if self._task is None:
            # Never raise into the request: the hold stays open and the sweep settles it.
            logger.error("settle on a writer that is not running; hold %s left for the sweep",
                         settlement.request_id)
            return
        self._pending.append(settlement)
        backlog = self.pending
        if backlog > self.stats.backlog_high_water:
            self.stats.backlog_high_water = backlog
        if backlog >= self._pending_max * 0.8 and not self._warned_full:
            self._warned_full = True
            logger.warning("settlement queue at %d of %d: the database is not keeping up; "
                           "admissions stop at the bound", backlog, self._pending_max)
        self._wake.set()

    async def release(self, request_id: str) -> None:
        self._closed_one()
        try:
            await self._bounded(self._release(request_id), late=None)
        except self.transient_errors:
            # Releasing is idempotent (only an open hold is released): replay it later.
            self._queue_release(request_id)

    @property
    def open_holds(self) -> int:
        """Holds this writer granted that no settle or release has closed yet."""
        return self._open_holds

    def _closed_one(self) -> None:
        if self._open_holds > 0:
            self._open_holds -= 1

    @property
    def pending(self) -> int:
        """Settlements not yet written: waiting for a batch or in the batch being written."""
        return len(self._pending) + self._inflight

    async def flush(self) -> None:
        """Write every unwritten settlement now (a read of our own writes, shutdown, tests).

        Waits for the batch being written first (the flusher holds the lock while writing).
        """
        async with self._lock:
            await self._drain()

    # --- bounded single statements ---------------------------------------------------------
    async def _bounded(self, operation: Awaitable[T],
                       late: Callable[[T], object] | None) -> T:
        """`await operation`, or a 503 after `db_timeout_s`; `late(result)` if it lands later."""
        if self._db_timeout_s is None:
            return await operation
        task = asyncio.ensure_future(operation)
        try:
            done, _ = await asyncio.wait((task,), timeout=self._db_timeout_s)
        except asyncio.CancelledError:
            # The caller left: stop the statement, and undo it if it had already landed.
            task.cancel()
            task.add_done_callback(lambda t: _late(t, late))
            raise
        if done:
            return task.result()
        # A hung server: answer now, let the statement finish (or fail) on its own.
        task.add_done_callback(lambda t: _late(t, late))
        raise ServiceUnavailable("The database did not answer in time; retry in a few seconds.")

    def _queue_release(self, request_id: str) -> None:
        self._releases.append(request_id)
        self._wake.set()

    # --- the flusher ---------------------------------------------------------------------------
    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._window_s:
                await asyncio.sleep(self._window_s)
            async with self._lock:
                await self._drain()

    async def _drain(self) -> None:
        while self._pending or self._releases:
            if not self._pending:
                await self._replay_releases()
                continue
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            self._inflight = len(batch)
            try:
                await self._write(batch)
            finally:
                self._inflight = 0
            if self._warned_full and self.pending < self._pending_max * 0.5:
                self._warned_full = False

    def _gave_up(self) -> bool:
        return (self._give_up_at is not None
                and asyncio.get_running_loop().time() >= self._give_up_at)

    async def _retrying(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        """Run `operation()` until the database answers (transient errors back off, capped)."""
        delay = _BACKOFF_FIRST_S
        while True:
            try:
                return await operation()
            except self.transient_errors as exc:
                if self._gave_up():
                    raise
                self.stats.retries += 1
                logger.warning("%s: database unavailable (%s); retrying in %.2f s", what,
                               type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_CAP_S)

    async def _write(self, batch: list[Settlement]) -> None:
        unique: dict[str, Settlement] = {}
        for settlement in batch:
            if settlement.request_id in unique:
                logger.warning("settle: request %s settled twice; kept the first",
                               settlement.request_id)
                continue
            unique[settlement.request_id] = settlement
        rows = list(unique.values())
        try:
            settled = await self._retrying(lambda: self._settle_batch(rows),
                                           f"settle flush of {len(rows)}")
        except self.transient_errors as exc:  # only past the shutdown deadline
            self._log_lost(rows, exc)
            return
        except Exception as exc:  # noqa: BLE001 - any failure must not reach the request
            logger.warning("settle flush of %d failed (%s); settling each alone", len(rows),
                           type(exc).__name__)
            await self._write_each(rows)
            return
        if settled != len(rows):
            # A replayed batch whose first try did commit lands here too: nothing is charged
            # twice, the holds were already closed.
            logger.warning("settle: %d of %d settlements found no open hold",
                           len(rows) - settled, len(rows))

    async def _write_each(self, rows: list[Settlement]) -> None:
        # One bad row must not sink the batch: each alone, still replayed while the database
        # is unreachable.
        for row in rows:
            try:
                await self._retrying(functools.partial(self._settle_batch, [row]),
                                     f"settle {row.request_id}")
            except Exception as exc:  # noqa: BLE001
                self._log_lost([row], exc)

    async def _replay_releases(self) -> None:
        ids, self._releases = self._releases, []
        for request_id in dict.fromkeys(ids):
            try:
                await self._retrying(functools.partial(self._release, request_id),
                                     f"release {request_id}")
                self.stats.releases_replayed += 1
            except Exception as exc:  # noqa: BLE001
                logger.error("release of %s not written (%s); its hold stays open for the "
                             "stale-hold sweep", request_id, type(exc).__name__)

    def _log_lost(self, rows: list[Settlement], exc: BaseException | None) -> None:
        self.stats.lost += len(rows)
        logger.error(
            "settlement not written%s; its hold stays open for the stale-hold sweep: %s",
            f" ({type(exc).__name__})" if exc else "", ",".join(s.request_id for s in rows),
        )


def _unavailable(exc: BaseException) -> ServiceUnavailable:
    if isinstance(exc, ServiceUnavailable):
        return exc
    logger.warning("hot path: database unavailable (%s: %s)", type(exc).__name__, exc)
    return ServiceUnavailable("The database is temporarily unavailable; retry in a few seconds.")


def _late(task: asyncio.Task[T], late: Callable[[T], object] | None) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    if late is not None:
        late(task.result())


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
