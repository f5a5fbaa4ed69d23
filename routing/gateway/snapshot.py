"""The gateway's routing snapshot and margin table, rebuilt off the request path.

A background task polls `catalog.selectors.get_catalog_stamp()` every couple of seconds and
rebuilds the frozen snapshot (in a worker thread: it reads the database) only when the stamp
changed. The stamp, not the bare counter: after a restore the counter can come back to a number
this process has seen, with other rows behind it. Requests read `holder.snapshot`, a plain
attribute: no lock, no await.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from routing.gateway import seams
from routing.gateway.seams import RoutingSnapshot

if TYPE_CHECKING:
    from routing.gateway.seams import MarginTable

log = logging.getLogger(__name__)


class SnapshotHolder:
    def __init__(self, executor: Executor, sandbox_base_url: str | None, poll_s: float):
        self._executor = executor
        self._sandbox_base_url = sandbox_base_url
        self._poll_s = poll_s
        self.snapshot: RoutingSnapshot = RoutingSnapshot(version="empty")
        self.margins: MarginTable | None = None  # loaded with the snapshot
        self._stamp: str | None = None

    def _build(self, force: bool) -> tuple[str, RoutingSnapshot | None, MarginTable]:
        """(stamp, snapshot or None if unchanged, margins); runs in a worker thread."""
        stamp = seams.get_catalog_stamp()
        snapshot = None
        if force or stamp != self._stamp:
            snapshot = seams.build_routing_snapshot(sandbox_base_url=self._sandbox_base_url)
        # The margin table is one small query; reloading it each poll keeps it current.
        return stamp, snapshot, seams.get_margin_table()

    async def refresh(self, *, force: bool = False) -> None:
        loop = asyncio.get_running_loop()
        stamp, snapshot, margins = await loop.run_in_executor(
            self._executor, self._build, force)
        if snapshot is not None:
            self.snapshot, self._stamp = snapshot, stamp
        self.margins = margins

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.refresh()
            except Exception:  # the catalog being mid-migration must not kill the gateway
                log.warning("routing snapshot refresh failed; keeping the old one", exc_info=True)
