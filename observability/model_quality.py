"""Measured error rates of models across every org: the public quality facts that sponsored
listings' quality score and gates read (issue 14). Counts only, never which org.

A model error is a request that reached a provider and failed there (`MODEL_ERROR_TYPES`:
5xx, timeouts, the provider's refusals and content filters); our own refusals (rate limits,
credit, policy, no endpoint), bad requests and clients that left say nothing of the model and
count in neither the errors nor the requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Q, Sum
from django.utils import timezone

from observability.models import DAY, FAILED, SUCCESS, RequestRecord, RequestRollup

MODEL_ERROR_TYPES = ("upstream_5xx", "timeout", "refusal", "content_filter")
WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    requests: int  # requests the model was asked to answer (served or failed upstream)
    errors: int  # of which failed at the model's providers

    @property
    def error_rate(self) -> Fraction | None:
        return Fraction(self.errors, self.requests) if self.requests else None


def model_error_counts(model_slugs: Iterable[str], *, task: str | None = None,
                       now: dt.datetime | None = None) -> dict[str, ErrorCounts]:
    """Each model's requests and model errors over the last 7 days (absent: no request).

    Without a task, from the day rollups' model dimension (a handful of rows a model). With a
    task, from the request records themselves (the rollups hold no model-by-task group): one
    aggregate query over the window, grouped by the model that served.
    """
    slugs = list(set(model_slugs))
    if not slugs:
        return {}
    now = now or timezone.now()
    since = now - WINDOW
    if task:
        model_errors = Q(outcome=FAILED, error_type__in=MODEL_ERROR_TYPES)
        rows = (RequestRecord.objects
                .filter(created_at__gte=since, created_at__lte=now, task=task,
                        model_served__in=slugs)
                .filter(Q(outcome=SUCCESS) | model_errors)
                .values("model_served").order_by()
                .annotate(requests=Sum("count"), errors=Sum("count", filter=model_errors)))
        return {row["model_served"]: ErrorCounts(row["requests"] or 0, row["errors"] or 0)
                for row in rows}
    day_start = since.replace(hour=0, minute=0, second=0, microsecond=0)
    totals: dict[str, list[int]] = {}
    rollups = (RequestRollup.objects
               .filter(period=DAY, dimension="model", group__in=slugs, start__gte=day_start)
               .values_list("group", "requests", "errors", "error_types"))
    for slug, requests, errors, error_types in rollups:
        model_errors = sum(int((error_types or {}).get(kind, 0)) for kind in MODEL_ERROR_TYPES)
        other_errors = errors - model_errors  # ours or the client's: not the model's
        total = totals.setdefault(slug, [0, 0])
        total[0] += requests - other_errors
        total[1] += model_errors
    return {slug: ErrorCounts(max(requests, 0), errors)
            for slug, (requests, errors) in totals.items()}
