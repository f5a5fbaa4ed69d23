"""Celery tasks of observability (found by module path: marketplace/celery.py autodiscovers)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from observability import partitions, rollups
from observability.alerts import evaluate as alert_evaluation


@shared_task(name="observability.tasks.maintain_partitions")
def maintain_partitions() -> dict[str, list[str]]:
    """Create this month's and the next two months' partitions; drop months past retention."""
    now = dt.datetime.now(dt.UTC)
    created = partitions.ensure_ahead(now.date())
    dropped = partitions.drop_before(
        now - dt.timedelta(days=settings.REQUEST_RECORD_RETENTION_DAYS))
    return {"created": [m.isoformat() for m in created],
            "dropped": [m.isoformat() for m in dropped]}


@shared_task(name="observability.tasks.evaluate_alerts")
def evaluate_alerts() -> dict[str, int]:
    """Every org's alerts: open crossings, close what cleared, email once per crossing."""
    return alert_evaluation.evaluate_alerts()


@shared_task(name="observability.tasks.rollup_requests")
def rollup_requests() -> dict[str, int]:
    """Roll the request records recorded since the last run into the analytics rollups."""
    return rollups.rollup_requests().as_dict()
