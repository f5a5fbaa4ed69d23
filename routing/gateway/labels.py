"""Task labels for request records, computed in a bounded thread off the answer's path.

`routing.task_labels.label_task` costs about 0.1-0.2 ms of CPU per request; its model (about
120 MB) loads when the gateway starts, in the labelling thread. The gateway starts a label at
admission in that one thread; the request record waits for the label, never the answer. At
most `max_pending` requests wait for a label at once: past that, a request is recorded
unlabelled rather than queue without bound.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import orjson

from routing.task_labels import label_task

log = logging.getLogger(__name__)


def _label(body: bytes) -> str:
    try:
        return label_task(orjson.loads(body))
    except Exception:  # noqa: BLE001 - a label is never worth a failed record
        log.warning("could not label a request", exc_info=True)
        return ""


class TaskLabeller:
    def __init__(self, *, max_pending: int, enabled: bool = True):
        self._enabled = enabled
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-label")
        self._slots = threading.BoundedSemaphore(max_pending)
        self.skipped = 0  # requests recorded unlabelled because the labeller was full

    def warm(self) -> None:
        """Load the model now, in the labelling thread, rather than on the first request."""
        if self._enabled:
            self._pool.submit(_label, b'{"messages": [{"role": "user", "content": "hello"}]}')

    def submit(self, body: bytes) -> Future[str] | None:
        if not self._enabled:
            return None
        if not self._slots.acquire(blocking=False):
            self.skipped += 1
            return None
        future = self._pool.submit(_label, body)
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future[str]) -> None:
        self._slots.release()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
