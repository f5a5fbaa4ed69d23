"""Models' measured error rates across orgs (sponsored listings' quality, issue 14), read off
the platform-wide table the rollup task keeps."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from django.utils import timezone

from marketplace.tenancy.models import Organization
from observability.model_quality import model_error_counts
from observability.rollups import rollup_requests
from tests.observability.records import row, store


def _seed(now):
    one, two = (Organization.objects.create(name=n, slug=n) for n in ("mq-one", "mq-two"))
    recent = now - dt.timedelta(hours=2)
    store(
        # Model A: 8 served, 1 upstream failure, 1 timeout (2 of 10 are the model's errors).
        *[row(one, at=recent, model_served="a/model", task="extraction") for _ in range(5)],
        *[row(two, at=recent, model_served="a/model", task="coding") for _ in range(3)],
        row(one, at=recent, model_served="a/model", task="extraction", outcome="failed",
            error_type="upstream_5xx", status=502),
        row(two, at=recent, model_served="a/model", task="coding", outcome="failed",
            error_type="timeout", status=504),
        # Our own refusals and the client's mistakes say nothing about the model.
        row(one, at=recent, model_served="a/model", task="extraction", outcome="refused",
            error_type="rate_limit", status=429, count=7),
        row(two, at=recent, model_served="a/model", task="coding", outcome="failed",
            error_type="invalid_request", status=400),
        # Model B: everything it was asked, it answered; one old failure is outside 7 days.
        row(one, at=recent, model_served="b/model", task="extraction"),
        row(one, at=now - dt.timedelta(days=8), model_served="b/model", task="extraction",
            outcome="failed", error_type="upstream_5xx", status=502),
    )


def test_error_counts_per_task_come_from_the_rolled_up_table(db):
    now = timezone.now()
    _seed(now)
    assert model_error_counts(["a/model"], task="extraction", now=now) == {}  # not rolled up
    rollup_requests()
    counts = model_error_counts(["a/model", "b/model", "c/model"], task="extraction", now=now)
    assert (counts["a/model"].requests, counts["a/model"].errors) == (6, 1)
    assert counts["a/model"].error_rate == Fraction(1, 6)
    assert (counts["b/model"].requests, counts["b/model"].errors) == (1, 0)
    assert "c/model" not in counts
    coding = model_error_counts(["a/model"], task="coding", now=now)["a/model"]
    assert (coding.requests, coding.errors) == (4, 1)


def test_error_counts_for_every_task_sum_the_tasks(db):
    now = timezone.now()
    _seed(now)
    rollup_requests()
    counts = model_error_counts(["a/model", "b/model"], now=now)
    assert (counts["a/model"].requests, counts["a/model"].errors) == (10, 2)
    assert (counts["b/model"].requests, counts["b/model"].errors) == (1, 0)


def test_the_window_is_the_utc_days_overlapping_the_last_7_days(db):
    one = Organization.objects.create(name="mq-w", slug="mq-w")
    now = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    store(row(one, at=dt.datetime(2026, 11, 13, 1, 0, tzinfo=dt.UTC), model_served="a/model",
              task="extraction", outcome="failed", error_type="timeout", status=504),
          row(one, at=dt.datetime(2026, 11, 12, 23, 0, tzinfo=dt.UTC), model_served="a/model",
              task="extraction", outcome="failed", error_type="timeout", status=504),
          row(one, at=dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC), model_served="a/model",
              task="extraction"))
    rollup_requests()
    counts = model_error_counts(["a/model"], task="extraction", now=now)["a/model"]
    # The 13th overlaps the window (it starts on the 13th at 06:00); the 12th does not.
    assert (counts.requests, counts.errors) == (2, 1)
