"""The request record of every /v1 inference request that passed authentication (issue 13).

A request gets its row (observability's `RequestRow`) once authenticated; parsing, the call
(`Call.settle`) and the error that ends it fill it in, and `Gateway.handle` finishes it after
the answer went out and hands it to `RequestRecorder`. The recorder labels the task of the
requests the limiter admitted in batches (`labels.py`), then queues the rows for
`BatchQueue`'s batched insert: nothing of this is on the answer's path.

A flood of identical refusals by our own rate limiter shares rows: per key, model and minute
the first is recorded as it comes and the rest are counted into one more row (`count`),
written when the minute is over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from core.errors import (
    Forbidden,
    InsufficientCredits,
    InvalidRequest,
    ModelNotAllowed,
    NoEndpointAvailable,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    SwitchyardError,
    UpstreamError,
)
from routing.gateway.batches import GATHER_S, BatchQueue
from routing.gateway.labels import TaskLabeller
from routing.gateway.seams import CANCELLED, FAILED, REFUSED, SUCCESS, RequestRow

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from routing.gateway.auth import Caller
    from routing.gateway.context import RequestContext

MAX_PENDING_ROWS = 50_000
# Request bodies kept for labelling at most (besides TASK_LABEL_MAX_PENDING requests).
MAX_LABEL_BYTES = 64 * 1024 * 1024
# Distinct (key, model, minute) floods counted at once; beyond it refusals get rows of their own.
MAX_FLOODS = 10_000
# The status a client that left gets (nginx's "client closed request").
CLIENT_CLOSED = 499
_CONTENT_FILTERS = frozenset({"content_filter", "moderation"})


def start_record(ctx: RequestContext, caller: Caller) -> RequestRow:
    headers = ctx.headers
    title = headers.get(b"x-openrouter-title") or headers.get(b"x-title") or b""
    app = title or headers.get(b"http-referer", b"")
    row = RequestRow(request_id=ctx.request_id, created_at=dt.datetime.now(dt.UTC),
                     org_id=caller.org_id, key_id=caller.key_id, model_requested="",
                     status=200, outcome=SUCCESS, app=app.decode("utf-8", "replace")[:200])
    ctx.record = row
    return row


def error_type_of(error: SwitchyardError) -> str:
    """Analytics' error type (observability.models.ERROR_TYPES) for an error we answered."""
    kind = (error.metadata or {}).get("error_type")
    if isinstance(error, RateLimited) or kind == "rate_limit_exceeded":
        return "rate_limit"
    if isinstance(error, RequestTimeout) or kind == "timeout":
        return "timeout"
    if isinstance(error, ModelNotAllowed):
        return "policy"
    if isinstance(error, NoEndpointAvailable):
        return "no_endpoint"
    if isinstance(error, InsufficientCredits):
        return "credit"
    if isinstance(error, UpstreamError):
        return "upstream_5xx"
    if isinstance(error, Forbidden):
        return "content_filter" if kind in _CONTENT_FILTERS else "refusal"
    if isinstance(error, InvalidRequest | NotFound):
        return "invalid_request"
    if isinstance(error, ServiceUnavailable):
        return "unavailable"
    return "internal"


def finish_record(row: RequestRow, ctx: RequestContext, error: SwitchyardError | None, *,
                  disconnected: bool = False) -> None:
    """Fill in how the request ended; the call (`Call.settle`) filled in what it served."""
    if not row.latency_ms:
        row.latency_ms = int(ctx.elapsed_s() * 1000)
    if error is not None:
        row.status = error.status
        row.error_type = error_type_of(error)
        row.error_message = str(error.message)[:300]
        attempts = (error.metadata or {}).get("attempts")
        if attempts and not row.attempts:
            row.attempts = list(attempts)
        row.outcome = FAILED if row.attempts else REFUSED
    elif disconnected or row.outcome == CANCELLED:
        row.status, row.outcome, row.error_type = CLIENT_CLOSED, CANCELLED, "cancelled"
    elif row.finish_reason == "error":  # a stream cut off by its provider, after the 200
        row.outcome, row.error_type = FAILED, "upstream_5xx"
    elif row.finish_reason == "content_filter":
        row.error_type = "content_filter"


class RequestRecorder:
    """Rows are labelled in batches (`labels.py`), then go to the batched insert."""

    def __init__(self, store: Callable[[Sequence[RequestRow]], object], executor: Executor,
                 labeller: TaskLabeller, *, max_labelling: int):
        self.queue: BatchQueue[RequestRow] = BatchQueue(
            "request records", store, executor, max_rows=MAX_PENDING_ROWS)
        self._labeller = labeller
        self._max_labelling = max_labelling
        self._floods: dict[tuple[Any, ...], RequestRow | None] = {}
        self._to_label: list[tuple[RequestRow, bytes]] = []
        self._to_label_bytes = 0
        self._labelling = 0  # rows in the labelling job running now
        self._wake = asyncio.Event()
        self.unlabelled = 0  # rows recorded without a label: too many waited already

    def __len__(self) -> int:
        return len(self.queue) + len(self._to_label) + self._labelling

    def record(self, row: RequestRow, body: bytes | None) -> None:
        """Queue the row; with `body` (the request as received) it is labelled first."""
        if row.error_type == "rate_limit" and row.outcome == REFUSED and self._counted(row):
            return
        if body is None or not self._labeller.enabled:
            self.queue.add(row)
            return
        if (len(self._to_label) >= self._max_labelling
                or self._to_label_bytes + len(body) > MAX_LABEL_BYTES):
            self.unlabelled += 1
            self.queue.add(row)
            return
        self._to_label.append((row, body))
        self._to_label_bytes += len(body)
        self._wake.set()

    async def label_pending(self) -> None:
        batch, self._to_label = self._to_label, []
        self._to_label_bytes = 0
        if not batch:
            return
        self._labelling = len(batch)
        try:
            labels = await self._labeller.label_all([body for _, body in batch])
        except asyncio.CancelledError:
            # Shutting down (Gateway.close cancels this task): the rows wait for close()'s
            # own pass, never lost.
            self._to_label[:0] = batch
            self._to_label_bytes += sum(len(body) for _, body in batch)
            raise
        except Exception:  # noqa: BLE001 - the rows go unlabelled, never lost
            log.warning("could not label %d requests", len(batch), exc_info=True)
            labels = [""] * len(batch)
        finally:
            self._labelling = 0
        for (row, _), label in zip(batch, labels, strict=True):
            row.task = label
            self.queue.add(row)

    async def run_labels(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(GATHER_S)
            await self.label_pending()

    def _counted(self, row: RequestRow) -> bool:
        """Whether this refusal joined its minute's flood row (the first of a minute does not)."""
        minute = row.created_at.replace(second=0, microsecond=0)
        flood_key = (row.key_id, row.model_requested, row.status, minute)
        if flood_key not in self._floods:
            if len(self._floods) < MAX_FLOODS:
                self._floods[flood_key] = None  # this one is recorded as it comes
            return False
        flood = self._floods[flood_key]
        if flood is None:
            self._floods[flood_key] = row  # counts the rest of the minute
        else:
            flood.count += 1
        return True

    def flush_floods(self, now: dt.datetime | None = None) -> None:
        """Queue the flood rows of minutes that are over (all of them when `now` is None)."""
        for flood_key, row in list(self._floods.items()):
            if now is None or now - flood_key[3] >= dt.timedelta(minutes=1):
                del self._floods[flood_key]
                if row is not None:
                    self.queue.add(row)

    async def run(self) -> None:
        await self.queue.run()

    async def run_floods(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            self.flush_floods(dt.datetime.now(dt.UTC))

    async def close(self) -> None:
        """Label and queue everything, then store it."""
        await self.label_pending()
        self.flush_floods()
        await self.queue.flush()
