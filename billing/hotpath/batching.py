"""Settlement batching shared by both writers: collect for a short window, flush as one write.

`settle()` only enqueues, so no request waits for a window or a commit; a background task
flushes whatever arrived within `window_ms` of the first pending settlement, in chunks of at
most `max_batch`. A failed flush is retried once, then each settlement is tried alone (so one
bad row cannot sink its neighbours); what still fails is logged by request id and its hold stays
open for the stale-hold sweep (never lost silently, never charged twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from billing.hotpath import Admission, Settlement

logger = logging.getLogger("billing.hotpath")


class BatchingWriter:
    """The HotPathWriter shape; subclasses supply the three database operations."""

    def __init__(self, *, window_ms: int = 3, max_batch: int = 500):
        self._window_s = window_ms / 1000
        self._max_batch = max_batch
        self._pending: list[Settlement] = []
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task | None = None

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
            await self.flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._shutdown()

    async def hold(self, admission: Admission) -> int:
        return await self._hold(admission)

    async def settle(self, settlement: Settlement) -> None:
        if self._task is None:
            # Never raise into the request: the hold stays open and the sweep settles it.
            logger.error("settle on a writer that is not running; hold %s left for the sweep",
                         settlement.request_id)
            return
        self._pending.append(settlement)
        self._wake.set()

    async def release(self, request_id: str) -> None:
        await self._release(request_id)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Write every pending settlement now (tests, shutdown, the sweep's neighbours)."""
        async with self._lock:
            await self._drain()

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
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[Settlement]) -> None:
        unique: dict[str, Settlement] = {}
        for settlement in batch:
            if settlement.request_id in unique:
                logger.warning("settle: request %s settled twice; kept the first",
                               settlement.request_id)
                continue
            unique[settlement.request_id] = settlement
        rows = list(unique.values())
        for attempt in (1, 2):
            try:
                settled = await self._settle_batch(rows)
            except Exception as exc:  # noqa: BLE001 - any failure must not reach the request
                logger.warning("settle flush of %d failed (%s)%s", len(rows),
                               type(exc).__name__, "; retrying once" if attempt == 1 else "")
                continue
            if settled != len(rows):
                logger.warning("settle: %d of %d settlements found no open hold",
                               len(rows) - settled, len(rows))
            return
        # Twice failed: one bad row must not sink the batch, so settle each alone once.
        if len(rows) > 1:
            for row in rows:
                try:
                    await self._settle_batch([row])
                except Exception as exc:  # noqa: BLE001
                    self._log_lost([row], exc)
            return
        self._log_lost(rows, None)

    @staticmethod
    def _log_lost(rows: list[Settlement], exc: Exception | None) -> None:
        logger.error(
            "settlement not written%s; its hold stays open for the stale-hold sweep: %s",
            f" ({type(exc).__name__})" if exc else "", ",".join(s.request_id for s in rows),
        )
