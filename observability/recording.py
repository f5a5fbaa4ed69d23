"""What the gateway hands over for each request, and the batch insert that stores it.

The gateway builds one `RequestRow` per inference request that passed authentication and
queues it; its recorder (`routing/gateway/records.py`) calls `store_request_records` from a
database thread with whatever gathered, off the answer's path.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, IntegrityError, transaction

from observability import partitions
from observability.models import RequestRecord

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RequestRow:
    """One request record as the gateway builds it (plain values; `task` may come later)."""

    request_id: str
    created_at: dt.datetime
    org_id: int
    key_id: int | None
    model_requested: str
    status: int
    outcome: str
    app: str = ""
    model_served: str = ""
    provider: str = ""
    endpoint_id: int | None = None
    error_type: str = ""
    error_message: str = ""
    finish_reason: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_nanos: int = 0
    latency_ms: int = 0
    ttft_ms: int | None = None
    streamed: bool = False
    is_fallback: bool = False
    is_byok: bool = False
    is_cached: bool = False
    task: str = ""
    count: int = 1


def _record(row: RequestRow) -> RequestRecord:
    return RequestRecord(
        request_id=row.request_id, created_at=row.created_at, org_id=row.org_id,
        key_id=row.key_id, app=row.app[:200], model_requested=row.model_requested[:200],
        model_served=row.model_served[:200], provider=row.provider[:64],
        endpoint_id=row.endpoint_id, status=row.status, outcome=row.outcome,
        error_type=row.error_type, error_message=row.error_message[:300],
        finish_reason=row.finish_reason[:32], attempts=row.attempts,
        prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
        cost_nanos=row.cost_nanos, latency_ms=row.latency_ms, ttft_ms=row.ttft_ms,
        streamed=row.streamed, is_fallback=row.is_fallback, is_byok=row.is_byok,
        is_cached=row.is_cached, task=row.task, count=row.count)


def _insert(objects: list[RequestRecord]) -> None:
    with transaction.atomic():
        RequestRecord.objects.bulk_create(objects, ignore_conflicts=True)


def store_request_records(rows: Sequence[RequestRow]) -> int:
    """Insert a batch in one statement; return how many rows were stored.

    A request id already stored (a retried batch) is left as it is. A month with no partition
    yet gets one, then the batch is tried again. A row the database still refuses (an org
    deleted meanwhile, a NUL in an error message) must not block the rest: the batch is then
    stored row by row and the refused rows are dropped, logged by request id. An unreachable
    database raises, so the caller retries the batch.
    """
    objects = [_record(row) for row in rows]
    try:
        _insert(objects)
        return len(objects)
    except (DataError, IntegrityError):
        pass
    if partitions.ensure_months({row.created_at for row in rows}):
        try:
            _insert(objects)
            return len(objects)
        except (DataError, IntegrityError):
            pass
    stored = 0
    for obj in objects:
        try:
            _insert([obj])
            stored += 1
        except (DataError, IntegrityError) as exc:
            logger.warning("request record %s not stored: %s", obj.request_id,
                           type(exc).__name__)
    return stored
