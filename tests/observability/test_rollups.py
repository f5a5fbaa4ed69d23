"""Rollups equal a direct aggregation of the records (exact counts, tokens and cost;
percentiles within the sketch's stated error), a rerun changes nothing, a worker killed in the
middle of a rollup leaves nothing counted twice, and late records are counted on the next run."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from core.sketch import DDSketch
from marketplace.tenancy.models import Organization
from observability.models import ModelTaskDay, RequestRecord, RequestRollup, RollupState
from observability.recording import RequestRow, store_request_records
from observability.rollups import EPOCH, OVERLAP, STATE_NAME, rollup_requests
from tests.fixtures.live_server import _test_database_url
from tests.observability.rollup_data import (
    direct_aggregation,
    direct_model_task_days,
    exact_quantile,
    hour_of,
    random_rows,
    within,
)
from tests.tenancy.factories import api_key

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def make_orgs(n: int = 3):
    result = []
    for i in range(n):
        org = Organization.objects.create(name=f"Org {i}", slug=f"rollup-org-{i}")
        keys = [api_key(org, name=f"key {j}")[0] for j in range(2)]
        result.append((org, keys))
    return result


def spread_hours(now: dt.datetime) -> list[dt.datetime]:
    base = hour_of(now) - dt.timedelta(days=2)
    return [base + dt.timedelta(hours=h) for h in (0, 1, 5, 23, 24, 30, 47)]


def snapshot() -> list[tuple]:
    return sorted(RequestRollup.objects.values_list(
        "org_id", "period", "start", "dimension", "group", "requests", "errors", "error_types",
        "prompt_tokens", "completion_tokens", "cost_nanos", "fallbacks", "byok", "latency",
        "ttft"), key=lambda row: tuple(str(v) for v in row[:5]))


def quality_snapshot() -> list[tuple]:
    return sorted(ModelTaskDay.objects.values_list(
        "day", "model", "task", "served", "failed", "refused", "cancelled"), key=str)


def assert_matches(rows: list[RequestRow]) -> None:
    expected = direct_aggregation(rows)
    stored = {(r.org_id, r.period, r.start, r.dimension, r.group): r
              for r in RequestRollup.objects.all()}
    assert set(stored) == set(expected)
    for key, e in expected.items():
        row = stored[key]
        assert {"requests": row.requests, "errors": row.errors, "error_types": row.error_types,
                "prompt_tokens": row.prompt_tokens,
                "completion_tokens": row.completion_tokens, "cost_nanos": row.cost_nanos,
                "fallbacks": row.fallbacks, "byok": row.byok} == e.figures(), key
        latency, ttft = DDSketch.from_dict(row.latency), DDSketch.from_dict(row.ttft)
        assert latency.count == len(e.latencies) and ttft.count == len(e.ttfts), key
        for q in (0.5, 0.95, 0.99):
            assert within(latency.quantile(q), exact_quantile(e.latencies, q)), (key, q)
        assert within(ttft.quantile(0.5), exact_quantile(e.ttfts, 0.5)), key
    # The platform-wide quality table: every org's records of each day, per model and task.
    assert {(d.day, d.model, d.task): (d.served, d.failed, d.refused, d.cancelled)
            for d in ModelTaskDay.objects.all()} == direct_model_task_days(rows)


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_direct_aggregation_and_a_rerun_changes_nothing(seed):
    rng = random.Random(seed)
    orgs = make_orgs()
    rows = random_rows(rng, orgs, spread_hours(dt.datetime.now(dt.UTC)), 400)

    result = rollup_requests()

    assert result.days > 0
    assert_matches(rows)
    before, quality_before = snapshot(), quality_snapshot()
    rollup_requests()  # within the watermark's margin: the same hours again
    assert (snapshot(), quality_snapshot()) == (before, quality_before)
    RollupState.objects.filter(name=STATE_NAME).update(watermark=EPOCH)
    rollup_requests()  # everything recomputed from scratch
    assert (snapshot(), quality_snapshot()) == (before, quality_before)


def test_late_records_are_counted_on_the_next_run():
    rng = random.Random(7)
    orgs = make_orgs(2)
    now = dt.datetime.now(dt.UTC)
    hours = spread_hours(now)
    rows = random_rows(rng, orgs, hours, 120)
    rollup_requests(now=now)
    # Much later, a replayed batch for an hour rolled long ago arrives...
    late = random_rows(rng, orgs, hours[:2], 30, prefix="late")
    # ...and one whose transaction began before the last run but committed after it.
    slow = random_rows(rng, orgs, hours[3:4], 5, prefix="slow")
    RequestRecord.objects.filter(request_id__startswith="slow").update(
        recorded_at=now - OVERLAP / 2)

    rollup_requests()

    assert_matches(rows + late + slow)


def test_a_worker_killed_mid_rollup_leaves_nothing_counted_twice():
    rng = random.Random(11)
    orgs = make_orgs(2)
    hours = spread_hours(dt.datetime.now(dt.UTC))
    rows = random_rows(rng, orgs, hours, 200)
    rollup_requests()  # rolled once, then more records arrive for the same hours
    rows += random_rows(rng, orgs, hours, 200, prefix="more")
    before = snapshot()

    # A real worker process: it commits its first day, then is killed inside its second
    # day's transaction (rows written, not committed).
    script = textwrap.dedent("""
        import sys, time
        import django
        django.setup()
        from observability.rollups import rollup_requests
        written = []
        def checkpoint(org_id, day, stage):
            if stage == "written":
                written.append((org_id, day))
                if len(written) == 2:
                    print("inside", org_id, day.isoformat(), flush=True)
                    time.sleep(600)
        rollup_requests(checkpoint=checkpoint)
        print("finished", flush=True)
    """)
    env = {**os.environ, "DATABASE_URL": _test_database_url(),
           "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("inside"), (line, child.stderr.read() if child.poll() else "")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    # The killed day's transaction left nothing; the first day was committed whole.
    after_kill = snapshot()
    assert after_kill != before
    old, new = ({repr(r): r for r in rows_} for rows_ in (before, after_kill))
    changed = {(new.get(k) or old[k])[0:3:2] for k in set(old) ^ set(new)}
    assert len({(org_id, start.date()) for org_id, start in changed}) == 1

    rollup_requests()

    assert_matches(rows)
    # The watermark did not move past the killed run, so the rerun took every touched day.
    assert RollupState.objects.get(name=STATE_NAME).watermark > EPOCH
    assert settings.CELERY_BEAT_SCHEDULE["observability.rollup_requests"]["task"] == (
        "observability.tasks.rollup_requests")


def test_the_celery_task_rolls_up():
    from observability.tasks import rollup_requests as task

    org, keys = make_orgs(1)[0]
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    store_request_records([RequestRow(
        request_id="gen-one", created_at=when, org_id=org.pk, key_id=keys[0].pk,
        model_requested="openai/gpt-4o-mini", model_served="openai/gpt-4o-mini",
        provider="openai", status=200, outcome="success", latency_ms=420, ttft_ms=90,
        cost_nanos=1234, prompt_tokens=10, completion_tokens=5)])

    assert task()["hours"] == 1
    row = RequestRollup.objects.get(org=org, period="hour", dimension="key",
                                    group=str(keys[0].pk))
    assert (row.requests, row.cost_nanos, row.prompt_tokens) == (1, 1234, 10)
    assert within(DDSketch.from_dict(row.latency).quantile(0.5), 420)
