"""Request rollups: per org, UTC hour (and day), dimension and group, maintained incrementally.

`rollup_requests()` (the Celery task `observability.tasks.rollup_requests`, every minute) finds
the (org, hour) pairs touched by records *recorded* since its last watermark, less a margin
(`OVERLAP`: a record's `recorded_at` is its transaction's start, so a batch that committed late
still falls inside the next run's window), and recomputes every rollup row of those hours from
the raw records: one transaction per (org, day) deletes the touched hours' rows, inserts their
recomputed rows, then rebuilds that day's rows from its hour rows. So a rerun changes nothing,
a worker killed mid-way leaves each day either as it was or fully recomputed (never counted
twice), and the watermark only moves once every touched day is committed.

Counts and sums are SQL aggregates (`requests` and the other counts are SUM(count): a row may
stand for a flood of identical refusals); the latency and TTFT sketches (`core.sketch`) are
built in Python from that hour's served requests' values. Day rows merge hour rows (sketches
merge exactly), so a 90-day range reads 90 rows a group.

The same run then recomputes the platform-wide `ModelTaskDay` rows (every org's requests per
model and task, counts only, no org) of each UTC day it touched: one grouped query over that
day's records of the orgs that had any (read off the day rollups just written, so the query
walks the org-and-time index rather than the month's partition), replacing the day's rows in
one transaction. Also idempotent; the watermark waits for these days too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import CharField, F, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncHour
from django.utils import timezone

from core.sketch import DDSketch
from observability.models import (
    ALL,
    CANCELLED,
    DAY,
    DIMENSIONS,
    FAILED,
    HOUR,
    REFUSED,
    SUCCESS,
    ModelTaskDay,
    RequestRecord,
    RequestRollup,
    RollupState,
)

STATE_NAME = "request_rollups"
OVERLAP = dt.timedelta(minutes=5)
HOUR_DELTA = dt.timedelta(hours=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DAY_DELTA = dt.timedelta(days=1)

# Called as checkpoint(org_id, day, stage): stage "written" inside the day's transaction after
# its rows are written (before commit), "committed" after it. Progress reporting and tests.
Checkpoint = Callable[[int, dt.date, str], None]


def group_expression(dimension: str) -> Any:
    """The SQL expression of a record's group in `dimension` (text, "" when it has none)."""
    if dimension == ALL:
        return Value("", output_field=CharField())
    if dimension == "model":
        return Coalesce(NullIf(F("model_served"), Value("")), F("model_requested"),
                        output_field=CharField())
    if dimension == "key":
        return Coalesce(Cast("key_id", CharField()), Value(""), output_field=CharField())
    if dimension in ("provider", "app", "task"):
        return F(dimension)
    raise ValueError(f"unknown dimension {dimension!r}")


def record_groups(model_served: str, model_requested: str, provider: str, key_id: int | None,
                  app: str, task: str) -> tuple[str, ...]:
    """The record's group in each of DIMENSIONS, in order (Python twin of group_expression)."""
    return ("", model_served or model_requested, provider,
            "" if key_id is None else str(key_id), app, task)


def rounded_ms(value: float | None) -> float | None:
    """A percentile as shown: to 0.1 ms (the sketch itself is within 1%)."""
    return None if value is None else round(value, 1)


@dataclass
class Totals:
    """One rollup row's figures while they are built (hour rows from SQL, day rows by merging)."""

    requests: int = 0
    errors: int = 0
    error_types: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_nanos: int = 0
    fallbacks: int = 0
    byok: int = 0
    latency: DDSketch = field(default_factory=DDSketch)
    ttft: DDSketch = field(default_factory=DDSketch)

    def add_values(self, row: dict[str, Any]) -> None:
        """Add a rollup row's figures (from `.values()`); its sketches are merged when the
        row carries them."""
        self.requests += row["requests"]
        self.errors += row["errors"]
        for kind, n in (row["error_types"] or {}).items():
            self.error_types[kind] = self.error_types.get(kind, 0) + n
        self.prompt_tokens += row["prompt_tokens"]
        self.completion_tokens += row["completion_tokens"]
        self.cost_nanos += row["cost_nanos"]
        self.fallbacks += row["fallbacks"]
        self.byok += row["byok"]
        if "latency" in row:
            self.latency.merge_dict(row["latency"])
            self.ttft.merge_dict(row["ttft"])

    def as_row(self, org_id: int, period: str, start: dt.datetime, dimension: str,
               group: str) -> RequestRollup:
        return RequestRollup(
            org_id=org_id, period=period, start=start, dimension=dimension, group=group,
            requests=self.requests, errors=self.errors,
            error_types=dict(sorted(self.error_types.items())),
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
            cost_nanos=self.cost_nanos, fallbacks=self.fallbacks, byok=self.byok,
            latency=self.latency.to_dict(), ttft=self.ttft.to_dict(),
            p50_ms=rounded_ms(self.latency.quantile(0.5)),
            p95_ms=rounded_ms(self.latency.quantile(0.95)),
            p99_ms=rounded_ms(self.latency.quantile(0.99)),
            ttft_p50_ms=rounded_ms(self.ttft.quantile(0.5)))


def _hours_filter(hours: Iterable[dt.datetime]) -> Q:
    """created_at within any of these hours (adjacent hours joined into one range)."""
    spans: list[list[dt.datetime]] = []
    for hour in sorted(hours):
        if spans and spans[-1][1] == hour:
            spans[-1][1] = hour + HOUR_DELTA
        else:
            spans.append([hour, hour + HOUR_DELTA])
    condition = Q()
    for start, end in spans:
        condition |= Q(created_at__gte=start, created_at__lt=end)
    return condition


def compute_hours(org_id: int, hours: Iterable[dt.datetime]) -> list[RequestRollup]:
    """The hour rows of these hours of one org, from its raw records (nothing is written)."""
    hours = list(hours)
    if not hours:
        return []
    records = RequestRecord.objects.filter(_hours_filter(hours), org_id=org_id).order_by()
    hour_of = TruncHour("created_at", tzinfo=dt.UTC)
    totals: dict[tuple[dt.datetime, str, str], Totals] = defaultdict(Totals)
    for dimension in DIMENSIONS:
        aggregates = (
            records.annotate(hour=hour_of, g=group_expression(dimension))
            .values("hour", "g", "error_type")
            .annotate(requests=Sum("count"), prompt=Sum("prompt_tokens"),
                      completion=Sum("completion_tokens"), cost=Sum("cost_nanos"),
                      fallbacks=Sum("count", filter=Q(is_fallback=True)),
                      byok=Sum("count", filter=Q(is_byok=True))))
        for row in aggregates:
            t = totals[(row["hour"], dimension, row["g"] or "")]
            requests = row["requests"] or 0
            t.requests += requests
            if row["error_type"]:
                t.errors += requests
                t.error_types[row["error_type"]] = (
                    t.error_types.get(row["error_type"], 0) + requests)
            t.prompt_tokens += row["prompt"] or 0
            t.completion_tokens += row["completion"] or 0
            t.cost_nanos += row["cost"] or 0
            t.fallbacks += row["fallbacks"] or 0
            t.byok += row["byok"] or 0
    # Sketches: served requests' latency and TTFT, one pass over the hours' values.
    keys: dict[int, int | None] = {}
    probe = DDSketch()
    values = (records.filter(outcome=SUCCESS)
              .values_list("created_at", "model_served", "model_requested", "provider",
                           "key_id", "app", "task", "latency_ms", "ttft_ms", "count"))
    for created, served, asked, provider, key_id, app, task, latency, ttft, count in (
            values.iterator(chunk_size=5000)):
        hour = created.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        groups = record_groups(served, asked, provider, key_id, app, task)
        latency_key = keys[latency] if latency in keys else keys.setdefault(
            latency, probe.key(latency))
        ttft_key = None
        if ttft is not None:
            ttft_key = keys[ttft] if ttft in keys else keys.setdefault(ttft, probe.key(ttft))
        for dimension, group in zip(DIMENSIONS, groups, strict=True):
            t = totals[(hour, dimension, group)]
            t.latency.add_key(latency_key, count)
            if ttft is not None:
                t.ttft.add_key(ttft_key, count)
    return [t.as_row(org_id, HOUR, hour, dimension, group)
            for (hour, dimension, group), t in sorted(totals.items())]


MERGED_FIELDS = ("dimension", "group", "requests", "errors", "error_types", "prompt_tokens",
                 "completion_tokens", "cost_nanos", "fallbacks", "byok", "latency", "ttft")


def merge_rows(org_id: int, period: str, start: dt.datetime,
               rows: Iterable[dict[str, Any]]) -> list[RequestRollup]:
    """Rows of a longer period (a day) starting at `start`, merged from shorter rows' values
    (MERGED_FIELDS)."""
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for row in rows:
        totals[(row["dimension"], row["group"])].add_values(row)
    return [t.as_row(org_id, period, start, dimension, group)
            for (dimension, group), t in sorted(totals.items())]


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def rollup_day(org_id: int, day: dt.date, hours: Iterable[dt.datetime],
               checkpoint: Checkpoint | None = None) -> int:
    """Recompute these hours of one org's day and the day's rows, in one transaction.

    Returns the number of hour rows written.
    """
    hours = sorted(set(hours))
    start = day_start(day)
    with transaction.atomic():
        # One rollup at a time: a second worker waits here rather than inserting twice.
        RollupState.objects.select_for_update().filter(name=STATE_NAME).first()
        RequestRollup.objects.filter(org_id=org_id, period=HOUR, start__in=hours).delete()
        hour_rows = compute_hours(org_id, hours)
        RequestRollup.objects.bulk_create(hour_rows, batch_size=1000)
        RequestRollup.objects.filter(org_id=org_id, period=DAY, start=start).delete()
        day_hours = RequestRollup.objects.filter(
            org_id=org_id, period=HOUR, start__gte=start, start__lt=start + DAY_DELTA,
        ).values(*MERGED_FIELDS)
        RequestRollup.objects.bulk_create(merge_rows(org_id, DAY, start, day_hours),
                                          batch_size=1000)
        if checkpoint is not None:
            checkpoint(org_id, day, "written")
    if checkpoint is not None:
        checkpoint(org_id, day, "committed")
    return len(hour_rows)


@dataclass
class ModelTaskTotals:
    served: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    cancelled: int = 0

    def add(self, outcome: str, error_type: str, requests: int) -> None:
        if outcome == SUCCESS:
            self.served += requests
        elif outcome == FAILED:
            self.failed[error_type] = self.failed.get(error_type, 0) + requests
        elif outcome == REFUSED:
            self.refused += requests
        elif outcome == CANCELLED:
            self.cancelled += requests


def compute_model_task_day(day: dt.date) -> list[ModelTaskDay]:
    """The day's `ModelTaskDay` rows from every org's records (nothing is written)."""
    start = day_start(day)
    # Every org with a record that day has that day's "all" rollup row: naming them lets the
    # query use the org-and-time index (there is no index on the time alone).
    orgs = list(RequestRollup.objects.filter(period=DAY, dimension=ALL, start=start)
                .values_list("org_id", flat=True))
    if not orgs:
        return []
    aggregates = (
        RequestRecord.objects.filter(org_id__in=orgs, created_at__gte=start,
                                     created_at__lt=start + DAY_DELTA).order_by()
        .annotate(m=group_expression("model"))
        .values("m", "task", "outcome", "error_type")
        .annotate(requests=Sum("count")))
    totals: dict[tuple[str, str], ModelTaskTotals] = defaultdict(ModelTaskTotals)
    for row in aggregates:
        if row["m"]:
            totals[(row["m"], row["task"])].add(row["outcome"], row["error_type"],
                                                row["requests"] or 0)
    return [ModelTaskDay(day=day, model=model, task=task, served=t.served,
                         failed=dict(sorted(t.failed.items())), refused=t.refused,
                         cancelled=t.cancelled)
            for (model, task), t in sorted(totals.items())]


def rollup_model_task_day(day: dt.date) -> int:
    """Replace the day's `ModelTaskDay` rows by their recomputation, in one transaction (so a
    rerun changes nothing and a killed worker leaves the day as it was). Returns rows written.
    """
    with transaction.atomic():
        # One rollup at a time, as for the org rollups.
        RollupState.objects.select_for_update().filter(name=STATE_NAME).first()
        rows = compute_model_task_day(day)
        ModelTaskDay.objects.filter(day=day).delete()
        ModelTaskDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def touched_hours(since: dt.datetime) -> dict[tuple[int, dt.date], set[dt.datetime]]:
    """{(org, day): hours} of the records recorded at or after `since`."""
    records = RequestRecord.objects.order_by().filter(recorded_at__gte=since)
    pairs = (records.annotate(hour=TruncHour("created_at", tzinfo=dt.UTC))
             .values_list("org_id", "hour").distinct())
    touched: dict[tuple[int, dt.date], set[dt.datetime]] = defaultdict(set)
    for org_id, hour in pairs:
        touched[(org_id, hour.date())].add(hour)
    return touched


@dataclass(frozen=True)
class RollupResult:
    days: int
    hours: int
    rows: int

    def as_dict(self) -> dict[str, int]:
        return {"days": self.days, "hours": self.hours, "rows": self.rows}


def rollup_requests(*, checkpoint: Checkpoint | None = None,
                    now: dt.datetime | None = None) -> RollupResult:
    """Roll up every (org, hour) touched since the watermark; idempotent, safe to rerun."""
    now = now or timezone.now()
    state, _ = RollupState.objects.get_or_create(
        name=STATE_NAME, defaults={"watermark": EPOCH})
    touched = touched_hours(state.watermark - OVERLAP)
    rows = 0
    for (org_id, day), hours in sorted(touched.items()):
        rows += rollup_day(org_id, day, hours, checkpoint)
    for day in sorted({day for _, day in touched}):
        rollup_model_task_day(day)
    # Only once every touched day is committed: a run that dies leaves the window to the next.
    RollupState.objects.filter(name=STATE_NAME).update(watermark=now)
    return RollupResult(days=len(touched), hours=sum(len(h) for h in touched.values()),
                        rows=rows)
