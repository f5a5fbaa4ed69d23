"""The embedded (SQLite) writer: billing's ORM services on ONE dedicated thread.

SQLite serializes writers anyway, so one thread is all the concurrency there is to have; it
keeps the event loop free and gives the thread its own Django connection. The operations are
exactly billing.services.holds's, settlements batched into one transaction per flush.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, Unpack

from django.db import InterfaceError, OperationalError, connections

from billing.hotpath import Admission, Settlement, writer_settings
from billing.hotpath.batching import BatchingWriter, BatchOptions
from billing.services import holds

T = TypeVar("T")


class ThreadWriter(BatchingWriter):
    transient_errors = (*BatchingWriter.transient_errors, OperationalError, InterfaceError)

    def __init__(self, **options: Unpack[BatchOptions]):
        merged: BatchOptions = {**writer_settings(), **options}
        super().__init__(**merged)
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, *, pool_max: int | None = None,
                      **options: Unpack[BatchOptions]) -> ThreadWriter:
        del pool_max  # one thread, no pool
        return cls(**options)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing-writer")

    async def _shutdown(self) -> None:
        if self._executor is None:
            return
        await self._run(connections.close_all)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _hold(self, admission: Admission) -> int:
        return await self._run(holds.place_hold, admission)

    async def _settle_batch(self, batch: Sequence[Settlement]) -> int:
        return len(await self._run(holds.settle_holds, list(batch)))

    async def _release(self, request_id: str) -> bool:
        return await self._run(holds.release_hold, request_id)
