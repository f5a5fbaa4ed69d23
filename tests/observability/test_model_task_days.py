"""The platform-wide quality table (`ModelTaskDay`, issue 14): every org's requests per UTC day,
model and task, kept by the rollup task; counts only, never an org."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.tenancy.models import Organization
from observability import rollups
from observability.model_quality import model_error_counts, task_outcomes
from observability.models import ModelTaskDay, RollupState
from observability.rollups import STATE_NAME, rollup_model_task_day, rollup_requests
from tests.observability.records import row, store

pytestmark = pytest.mark.django_db

# Noon of yesterday: wholly in the past, so records stored now (recorded_at is the database's
# clock) fall after the watermark a run `now=NOW` leaves, whatever the hour the suite runs at
# (at today's noon, a run before noon stored records the rollup had already passed).
NOW = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(
    hour=12, minute=0, second=0, microsecond=0)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def _orgs(n=2):
    return [Organization.objects.create(name=f"Q {i}", slug=f"quality-{i}") for i in range(n)]


def _table() -> dict[tuple, tuple]:
    return {(d.day, d.model, d.task): (d.served, d.failed, d.refused, d.cancelled)
            for d in ModelTaskDay.objects.all()}


def _seed(one, two):
    at, before = NOW - dt.timedelta(hours=1), NOW - dt.timedelta(days=1, hours=1)
    store(
        # Today, two orgs' extraction on a/model: 3 + 2 served, a 5xx each, a refusal flood.
        *[row(one, at=at, model_served="a/model", task="extraction") for _ in range(3)],
        *[row(two, at=at, model_served="a/model", task="extraction") for _ in range(2)],
        row(one, at=at, model_requested="a/model", model_served="", task="extraction",
            outcome="failed", error_type="upstream_5xx", status=502),
        row(two, at=at, model_requested="a/model", model_served="", task="extraction",
            outcome="failed", error_type="timeout", status=504),
        row(two, at=at, model_requested="a/model", model_served="", task="extraction",
            outcome="refused", error_type="rate_limit", status=429, count=9),
        row(one, at=at, model_served="a/model", task="extraction", outcome="cancelled",
            error_type="cancelled", status=499),
        row(two, at=at, model_requested="a/model", model_served="", task="extraction",
            outcome="failed", error_type="invalid_request", status=400),
        # Asked for a/model, served by b/model (a fallback): b's request, unlabelled.
        row(one, at=at, model_requested="a/model", model_served="b/model", task=""),
        # Yesterday: one org's coding on a/model.
        row(two, at=before, model_served="a/model", task="coding"),
    )


def test_counts_per_day_model_and_task_across_orgs_without_any_org():
    one, two = _orgs()
    _seed(one, two)

    rollup_requests(now=NOW)

    assert _table() == {
        (TODAY, "a/model", "extraction"): (
            5, {"invalid_request": 1, "timeout": 1, "upstream_5xx": 1}, 9, 1),
        (TODAY, "b/model", ""): (1, {}, 0, 0),
        (YESTERDAY, "a/model", "coding"): (1, {}, 0, 0),
    }
    # The table holds counts only: no column points at an org, a key or a user.
    assert not [f.name for f in ModelTaskDay._meta.get_fields() if f.is_relation]


def test_decided_is_served_plus_model_errors_refusals_and_cancellations_say_nothing():
    one, two = _orgs()
    _seed(one, two)
    rollup_requests(now=NOW)

    # a/model on extraction: 5 served + 2 failed at a provider; the 9 refusals, the
    # cancellation and the invalid request are nobody's verdict on the model.
    outcomes = task_outcomes(now=NOW, window=dt.timedelta(days=30))
    extraction = outcomes[("extraction", "a/model")]
    assert (extraction.served, extraction.model_errors, extraction.decided) == (5, 2, 7)
    assert (outcomes[("coding", "a/model")].decided) == 1
    assert ("", "b/model") not in outcomes  # unlabelled requests rate no task
    counts = model_error_counts(["a/model", "b/model"], task="extraction", now=NOW)
    assert (counts["a/model"].requests, counts["a/model"].errors) == (7, 2)
    assert "b/model" not in counts
    every_task = model_error_counts(["a/model", "b/model"], now=NOW)
    assert (every_task["a/model"].requests, every_task["a/model"].errors) == (8, 2)
    assert (every_task["b/model"].requests, every_task["b/model"].errors) == (1, 0)


def test_a_rerun_changes_nothing_and_a_late_record_of_a_past_day_is_picked_up():
    one, two = _orgs()
    _seed(one, two)
    rollup_requests()
    before = _table()

    rollup_requests()
    RollupState.objects.filter(name=STATE_NAME).update(watermark=rollups.EPOCH)
    rollup_requests()
    assert _table() == before

    # A replayed batch arrives for yesterday, long after yesterday was rolled up.
    store(row(one, at=NOW - dt.timedelta(days=1, hours=3), model_served="a/model",
              task="coding", outcome="failed", error_type="content_filter", status=200))
    rollup_requests()

    after = _table()
    assert after[(YESTERDAY, "a/model", "coding")] == (1, {"content_filter": 1}, 0, 0)
    assert {k: v for k, v in after.items() if k[0] == TODAY} == {
        k: v for k, v in before.items() if k[0] == TODAY}


def test_a_day_that_fails_mid_way_keeps_its_rows_and_the_watermark(monkeypatch):
    one, two = _orgs()
    _seed(one, two)
    rollup_requests(now=NOW)
    before = _table()
    watermark = RollupState.objects.get(name=STATE_NAME).watermark
    store(row(two, at=NOW - dt.timedelta(minutes=5), model_served="a/model", task="extraction"))

    def crash(*args, **kwargs):
        raise RuntimeError("killed between the delete and the insert")

    monkeypatch.setattr(ModelTaskDay.objects, "bulk_create", crash)
    with pytest.raises(RuntimeError):
        rollup_requests(now=NOW + dt.timedelta(minutes=1))

    assert _table() == before  # the day's delete was rolled back with it
    assert RollupState.objects.get(name=STATE_NAME).watermark == watermark
    monkeypatch.undo()
    rollup_requests(now=NOW + dt.timedelta(minutes=1))
    assert _table()[(TODAY, "a/model", "extraction")][0] == 6


def test_a_day_costs_the_same_few_queries_whatever_the_number_of_orgs():
    def queries(orgs):
        for org in orgs:
            store(row(org, at=NOW - dt.timedelta(hours=2), model_served="a/model",
                      task="extraction"))
        rollup_requests(now=NOW)
        with CaptureQueriesContext(connection) as captured:
            rollup_model_task_day(TODAY)
        return len(captured)

    assert queries(_orgs(2)) == queries(
        [Organization.objects.create(name=f"More {i}", slug=f"more-{i}") for i in range(6)])
    assert _table()[(TODAY, "a/model", "extraction")] == (8, {}, 0, 0)
