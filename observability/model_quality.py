"""Models' measured quality across every org: the public facts that sponsored listings'
quality score and gates (`model_error_counts`) and organic recommendations (`task_outcomes`)
read (issue 14). Counts only, never which org.

Both read the platform-wide `ModelTaskDay` table (every org's requests per UTC day, model and
task, kept by `rollups.rollup_requests`), summing the UTC days that overlap the window, and
both use the one definition here:

- a model error is a request that reached a provider and failed there (`MODEL_ERROR_TYPES`:
  5xx, timeouts, the provider's refusals and content filters);
- the requests the model decided are those it served plus its model errors. Our own refusals
  (rate limits, credit, policy, no endpoint), bad requests, our own failures and clients that
  left say nothing of the model and count in neither.

A request's model is the one that served it, else the one asked for (the rollups' model group).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from typing import Any

from django.db.models import BigIntegerField, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from observability.models import ModelTaskDay

MODEL_ERROR_TYPES = ("upstream_5xx", "timeout", "refusal", "content_filter")
WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    requests: int  # requests the model decided (served, or failed at its providers)
    errors: int  # of which failed at the model's providers

    @property
    def error_rate(self) -> Fraction | None:
        return Fraction(self.errors, self.requests) if self.requests else None


@dataclass(frozen=True, slots=True)
class Outcomes:
    served: int
    model_errors: int

    @property
    def decided(self) -> int:
        return self.served + self.model_errors


def model_errors_expression() -> Any:
    """A `ModelTaskDay` row's model errors: its failures of the MODEL_ERROR_TYPES (SQL)."""
    return reduce(operator.add, [
        Coalesce(Cast(KT(f"failed__{kind}"), BigIntegerField()), Value(0))
        for kind in MODEL_ERROR_TYPES])


def window_days(now: dt.datetime, window: dt.timedelta) -> tuple[dt.date, dt.date]:
    """The first and last UTC day overlapping the window that ends at `now`."""
    return ((now - window).astimezone(dt.UTC).date(), now.astimezone(dt.UTC).date())


def _in_window(now: dt.datetime | None, window: dt.timedelta) -> Any:
    first, last = window_days(now or timezone.now(), window)
    return ModelTaskDay.objects.filter(day__gte=first, day__lte=last).order_by()


def model_error_counts(model_slugs: Iterable[str], *, task: str | None = None,
                       now: dt.datetime | None = None) -> dict[str, ErrorCounts]:
    """Each model's decided requests and model errors over the last 7 days, on `task` if
    given, else on every task, unlabelled ones included (absent: nothing decided). One query.
    """
    slugs = list(set(model_slugs))
    if not slugs:
        return {}
    days = _in_window(now, WINDOW).filter(model__in=slugs)
    if task:
        days = days.filter(task=task)
    rows = days.values("model").annotate(served=Sum("served"),
                                         errors=Sum(model_errors_expression()))
    counts = {}
    for row in rows:
        outcomes = Outcomes(served=row["served"] or 0, model_errors=row["errors"] or 0)
        if outcomes.decided:
            counts[row["model"]] = ErrorCounts(outcomes.decided, outcomes.model_errors)
    return counts


def task_outcomes(*, now: dt.datetime, window: dt.timedelta) -> dict[tuple[str, str], Outcomes]:
    """{(task, model): outcomes} of every labelled task over the window, where the model
    decided at least one request (one query)."""
    rows = (_in_window(now, window).exclude(task="")
            .values("task", "model")
            .annotate(served=Sum("served"), errors=Sum(model_errors_expression())))
    found = {}
    for row in rows:
        outcomes = Outcomes(served=row["served"] or 0, model_errors=row["errors"] or 0)
        if outcomes.decided:
            found[(row["task"], row["model"])] = outcomes
    return found
