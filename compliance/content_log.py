"""Content logging: a request's and its answer's content, kept only while the org asks for it.

Nothing is stored by default. An org whose policy sets `content_retention_days` (never with
zero data retention: the policy service refuses it and a database constraint forbids it) has
each request body as received and its answer stored by the gateway, in batches off the answer's
path (`store_contents`); the daily `compliance.tasks.purge_expired_content` deletes rows past
their `expires_at`. Owners and admins read one request's content by its id (`access_content`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from compliance.models import RequestContent
from core.errors import NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ContentRow:
    """One request's content as the gateway hands it over (plain JSON values)."""

    org_id: int
    request_id: str
    request: Any
    response: Any
    created_at: dt.datetime
    expires_at: dt.datetime


def store_contents(rows: Iterable[ContentRow]) -> int:
    """Insert a batch in one statement; return how many rows were stored.

    A request id already stored is left as it is (a retried batch). A row the database refuses
    (PostgreSQL's jsonb holds no NUL character; an org deleted meanwhile) must not block the
    rest forever: the batch is then stored row by row and the refused rows are dropped, logged
    by request id only. An unreachable database raises, so the caller retries the batch.
    """
    objects = [RequestContent(org_id=row.org_id, request_id=row.request_id, request=row.request,
                              response=row.response, created_at=row.created_at,
                              expires_at=row.expires_at) for row in rows]
    try:
        with transaction.atomic():
            RequestContent.objects.bulk_create(objects, ignore_conflicts=True)
        return len(objects)
    except (DataError, IntegrityError):
        pass
    stored = 0
    for obj in objects:
        try:
            with transaction.atomic():
                RequestContent.objects.bulk_create([obj], ignore_conflicts=True)
            stored += 1
        except (DataError, IntegrityError) as exc:
            logger.warning("request content of %s not stored: %s", obj.request_id,
                           type(exc).__name__)
    return stored


def access_content(org_id: int, request_id: str) -> RequestContent:
    """The org's stored content of one request; another org's is NotFound, as a missing one."""
    content = RequestContent.objects.filter(org_id=org_id, request_id=request_id,
                                            expires_at__gt=timezone.now()).first()
    if content is None:
        raise NotFound("No stored content for this request.")
    return content


def purge_expired(*, now: dt.datetime | None = None, batch_size: int = 1000,
                  max_batches: int = 1000) -> int:
    """Delete expired content in batches of `batch_size` (short transactions, small locks).

    Returns how many rows went; a run that hits `max_batches` leaves the rest to the next one.
    """
    now = now or timezone.now()
    deleted = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(RequestContent.objects.filter(expires_at__lte=now)
                       .order_by("expires_at").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            deleted += RequestContent.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            break
    return deleted
