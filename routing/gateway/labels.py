"""Task labels for request records, computed in batches in one thread off the answer's path.

`routing.task_labels.label_task` costs about 0.1 ms of CPU per request; its model (about
120 MB) loads when the gateway starts, in the labelling thread. A request admitted past the
limiter hands its body to the request recorder (routing/gateway/records.py), which labels what
gathered in one job on this thread: one hand-off a batch rather than a future, a callback and
a wake-up of the event loop per request, which on a busy core cost more than the label.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import orjson

from routing.task_labels import label_task

log = logging.getLogger(__name__)


def _label(body: bytes) -> str:
    try:
        return label_task(orjson.loads(body))
    except Exception:  # noqa: BLE001 - a label is never worth a failed record
        log.warning("could not label a request", exc_info=True)
        return ""


def _label_all(bodies: Sequence[bytes]) -> list[str]:
    return [_label(body) for body in bodies]


class TaskLabeller:
    def __init__(self, *, enabled: bool = True):
        self.enabled = enabled
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-label")

    def warm(self) -> None:
        """Load the model now, in the labelling thread, rather than on the first request."""
        if self.enabled:
            self._pool.submit(_label, b'{"messages": [{"role": "user", "content": "hello"}]}')

    async def label_all(self, bodies: Sequence[bytes]) -> list[str]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, _label_all, bodies)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
