"""Rows the gateway stores beside an answer, inserted in batches from its database threads.

Request records and (for orgs that log it) request content are queued after the answer went out
and inserted by one background task: rows gather for `GATHER_S`, then one insert takes them all,
so a busy gateway writes a few statements a second however many requests it serves. A failed
insert keeps the rows for the next try. The queue is bounded, by rows and by the bytes a caller
says each row holds: past the bound new rows are dropped with a warning (never their content),
rather than grow without limit while the database is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Row = TypeVar("Row")

# Rows gather this long before one insert: batches under load, a short wait when idle.
GATHER_S = 0.2
# After a failed insert, wait this long before trying the same rows again.
RETRY_S = 1.0
# At most one "dropped" warning per this many seconds.
WARN_EVERY_S = 60.0


class BatchQueue(Generic[Row]):
    """Rows queued by requests, stored in batches by `store` in `executor`'s threads."""

    def __init__(self, name: str, store: Callable[[Sequence[Row]], object], executor: Executor,
                 *, max_rows: int, max_bytes: int | None = None):
        self.name = name
        self._store = store
        self._executor = executor
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._pending: list[Row] = []
        self._sizes: list[int] = []
        self._pending_bytes = 0
        self._inflight = 0  # rows in the insert running now
        self._wake = asyncio.Event()
        self.dropped = 0
        self._warned_at = 0.0

    def __len__(self) -> int:
        """Rows not yet stored: queued, or in the insert running now."""
        return len(self._pending) + self._inflight

    def add(self, row: Row, *, size: int = 0) -> None:
        if len(self._pending) >= self._max_rows or (
                self._max_bytes is not None and self._pending_bytes + size > self._max_bytes):
            self.dropped += 1
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_S:
                self._warned_at = now
                log.warning("%s: the queue is full; %d rows dropped so far", self.name,
                            self.dropped)
            return
        self._pending.append(row)
        self._sizes.append(size)
        self._pending_bytes += size
        self._wake.set()

    async def flush(self) -> bool:
        """Store what is queued; False (the rows stay queued) if the insert failed."""
        if not self._pending:
            return True
        batch, sizes = self._pending, self._sizes
        self._pending, self._sizes = [], []
        self._inflight = len(batch)
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store, batch)
        except Exception:  # noqa: BLE001 - kept for the next try; the answer is long gone
            log.warning("%s: could not store %d rows; retrying", self.name, len(batch),
                        exc_info=True)
            self._pending[:0] = batch
            self._sizes[:0] = sizes
            return False
        finally:
            self._inflight = 0
        self._pending_bytes -= sum(sizes)
        return True

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(GATHER_S)
            if not await self.flush():
                await asyncio.sleep(RETRY_S)
                self._wake.set()
