"""Reads of the analytics rollups for the API, the page and the CSV export: always one org's.

Everything here reads `RequestRollup` rows (observability/rollups.py), never raw records, so a
90-day range costs one indexed query of about 90 rows a group. A bucket is in a range when it
overlaps [since, until); its figures are the whole bucket's. Percentiles merge the buckets'
sketches, so they carry the sketch's error bound (core/sketch.py: 1%).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.errors import InvalidRequest
from core.money import api_usd
from marketplace.tenancy.models import Organization
from observability.models import ALL, DAY, HOUR, PERIODS, RequestRollup
from observability.moments import parse_moment
from observability.rollups import Totals, rounded_ms

GROUP_BYS = ("model", "provider", "key", "app", "task")
BUCKET_LENGTH = {HOUR: dt.timedelta(hours=1), DAY: dt.timedelta(days=1)}
# The longest range a request may ask for, by bucket (the CSV export has no cap).
MAX_RANGE = {HOUR: dt.timedelta(days=31), DAY: dt.timedelta(days=731)}
DEFAULT_RANGE = {HOUR: dt.timedelta(hours=24), DAY: dt.timedelta(days=30)}


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    since: dt.datetime  # inclusive
    until: dt.datetime  # exclusive
    bucket: str  # HOUR or DAY
    group_by: str  # ALL or one of GROUP_BYS

    @property
    def dimension(self) -> str:
        return self.group_by


def parse_query(params: Mapping[str, Any], *, capped: bool = True,
                now: dt.datetime | None = None) -> AnalyticsQuery:
    """since, until (ISO; a date as `until` includes that day), bucket, group_by from a query
    string; anything wrong is an InvalidRequest naming the parameter (a 400 / form error)."""
    values = {}
    for name in ("since", "until", "bucket", "group_by"):
        raw = params.get(name)
        raw = (raw if isinstance(raw, str) else "").strip()
        if "\x00" in raw or len(raw) > 64:
            raise InvalidRequest(f"{name} is not a valid value.", param=name)
        values[name] = raw
    bucket = values["bucket"] or DAY
    if bucket not in PERIODS:
        raise InvalidRequest("bucket must be hour or day.", param="bucket")
    group_by = values["group_by"] or ALL
    if group_by not in (ALL, *GROUP_BYS):
        raise InvalidRequest(f"group_by must be one of {', '.join(GROUP_BYS)} (or omitted).",
                             param="group_by")
    until = (parse_moment(values["until"], "until", end_of_day=True)
             or now or timezone.now())
    since = (parse_moment(values["since"], "since", end_of_day=False)
             or until - DEFAULT_RANGE[bucket])
    if since >= until:
        raise InvalidRequest("since must be before until.", param="since")
    if capped and until - since > MAX_RANGE[bucket]:
        raise InvalidRequest(
            f"The range is too long for {bucket} buckets: at most {MAX_RANGE[bucket].days} "
            f"days (use day buckets for longer ranges).", param="since")
    return AnalyticsQuery(since=since, until=until, bucket=bucket, group_by=group_by)


def _rows(org: Organization, query: AnalyticsQuery, dimensions: Iterable[str]) -> QuerySet:
    return RequestRollup.objects.filter(
        org=org, period=query.bucket, dimension__in=list(dimensions),
        start__gt=query.since - BUCKET_LENGTH[query.bucket], start__lt=query.until,
    ).order_by("dimension", "start", "group")


BUCKET_FIELDS = ("start", "group", "requests", "prompt_tokens", "completion_tokens",
                 "cost_nanos", "errors", "p50_ms", "p95_ms", "p99_ms", "ttft_p50_ms")


def bucket_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """One bucket as the API answers it, from a rollup row's values (no sketch is read: the
    row's percentiles were taken off its sketches when it was written)."""
    return {
        "start": row["start"].isoformat().replace("+00:00", "Z"),
        "group": row["group"],
        "requests": row["requests"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "cost_usd": api_usd(row["cost_nanos"]),
        "cost_nanos": row["cost_nanos"],
        "errors": row["errors"],
        "p50_ms": row["p50_ms"],
        "p95_ms": row["p95_ms"],
        "p99_ms": row["p99_ms"],
        "ttft_p50_ms": row["ttft_p50_ms"],
    }


def list_buckets(org: Organization, query: AnalyticsQuery) -> list[dict[str, Any]]:
    """The API's buckets: one per (bucket start, group) with requests, oldest first. One query."""
    rows = _rows(org, query, [query.dimension]).values(*BUCKET_FIELDS)
    return [bucket_dict(row) for row in rows]


@dataclass(frozen=True)
class GroupSummary:
    """One group's figures over the whole range (the page's tables)."""

    group: str
    requests: int
    errors: int
    error_types: dict[str, int]
    prompt_tokens: int
    completion_tokens: int
    cost_nanos: int
    fallbacks: int
    byok: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    ttft_p50_ms: float | None

    @property
    def cost_usd(self) -> str:
        return api_usd(self.cost_nanos)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def rate(self, part: int) -> float:
        return part / self.requests if self.requests else 0.0

    @property
    def error_rate(self) -> float:
        return self.rate(self.errors)

    @property
    def fallback_rate(self) -> float:
        return self.rate(self.fallbacks)

    @property
    def byok_share(self) -> float:
        return self.rate(self.byok)


def _summary(group: str, totals: Totals) -> GroupSummary:
    return GroupSummary(
        group=group, requests=totals.requests, errors=totals.errors,
        error_types=dict(sorted(totals.error_types.items(), key=lambda kv: (-kv[1], kv[0]))),
        prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens,
        cost_nanos=totals.cost_nanos, fallbacks=totals.fallbacks, byok=totals.byok,
        p50_ms=rounded_ms(totals.latency.quantile(0.5)),
        p95_ms=rounded_ms(totals.latency.quantile(0.95)),
        p99_ms=rounded_ms(totals.latency.quantile(0.99)),
        ttft_p50_ms=rounded_ms(totals.ttft.quantile(0.5)))


@dataclass(frozen=True)
class Analytics:
    """What the page shows for one query: the chosen dimension's buckets and groups, the
    whole org's totals, and latency by model and by provider."""

    query: AnalyticsQuery
    starts: list[dt.datetime]  # every bucket start of the range, oldest first
    series: list[tuple[dt.datetime, str, int, int, int]]  # start, group, requests, tokens, nanos
    groups: list[GroupSummary]  # of query.group_by, most requests first
    total: GroupSummary
    by_model: list[GroupSummary]
    by_provider: list[GroupSummary]


def bucket_starts(query: AnalyticsQuery) -> list[dt.datetime]:
    step = BUCKET_LENGTH[query.bucket]
    first = query.since.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    if query.bucket == DAY:
        first = first.replace(hour=0)
    starts = []
    while first < query.until:
        starts.append(first)
        first += step
    return starts


FIGURES = ("dimension", "group", "requests", "errors", "error_types", "prompt_tokens",
           "completion_tokens", "cost_nanos", "fallbacks", "byok")
LATENCY_DIMENSIONS = ("model", "provider")


def _range_sketches(org: Organization, query: AnalyticsQuery):
    """(dimension, group, latency, ttft) of models and providers covering the range with as
    few rows as possible: with hour buckets, the whole days inside the range come as day rows
    (one sketch a day, not 24) and only the edges as hour rows."""
    rows = RequestRollup.objects.filter(org=org, dimension__in=LATENCY_DIMENSIONS).order_by()
    since, until = query.since.astimezone(dt.UTC), query.until.astimezone(dt.UTC)
    hour_since = since.replace(minute=0, second=0, microsecond=0)
    first_day = since.replace(hour=0, minute=0, second=0, microsecond=0)
    if first_day < hour_since:
        first_day += BUCKET_LENGTH[DAY]
    end_day = until.replace(hour=0, minute=0, second=0, microsecond=0)
    if query.bucket == HOUR and first_day < end_day:
        rows = rows.filter(
            Q(period=DAY, start__gte=first_day, start__lt=end_day)
            | Q(period=HOUR, start__gte=hour_since, start__lt=first_day)
            | Q(period=HOUR, start__gte=end_day, start__lt=until))
    else:
        rows = rows.filter(period=query.bucket,
                           start__gt=since - BUCKET_LENGTH[query.bucket], start__lt=until)
    return rows.values_list("dimension", "group", "latency", "ttft")


def get_analytics(org: Organization, query: AnalyticsQuery) -> Analytics:
    """Everything the analytics page shows, in two queries over the range's rollups: the
    figures (no sketches) of the chosen dimension, the whole org, models and providers; then
    the sketches of models and providers, merged over the range for their latency tables."""
    dimensions = sorted({ALL, *LATENCY_DIMENSIONS, query.dimension})
    totals: dict[tuple[str, str], Totals] = {}
    series = []
    for row in _rows(org, query, dimensions).values("start", *FIGURES):
        totals.setdefault((row["dimension"], row["group"]), Totals()).add_values(row)
        if row["dimension"] == query.dimension:
            series.append((row["start"], row["group"], row["requests"],
                           row["prompt_tokens"] + row["completion_tokens"], row["cost_nanos"]))
    for dimension, group, latency, ttft in _range_sketches(org, query):
        t = totals[(dimension, group)]
        t.latency.merge_dict(latency)
        t.ttft.merge_dict(ttft)

    def summaries(dimension: str) -> list[GroupSummary]:
        found = [_summary(group, t) for (d, group), t in totals.items() if d == dimension]
        return sorted(found, key=lambda s: (-s.requests, s.group))

    total = totals.get((ALL, "")) or Totals()
    return Analytics(query=query, starts=bucket_starts(query), series=series,
                     groups=summaries(query.dimension), total=_summary("", total),
                     by_model=summaries("model"), by_provider=summaries("provider"))


# The CSV export --------------------------------------------------------------------------------

CSV_COLUMNS = ["period", "start", "dimension", "group", "requests", "errors", "error_types",
               "prompt_tokens", "completion_tokens", "cost_usd", "cost_nanos", "fallbacks",
               "byok", "p50_ms", "p95_ms", "p99_ms", "ttft_p50_ms"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    # An app name such as "=HYPERLINK(...)" must not become a spreadsheet formula.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[list]:
    yield CSV_COLUMNS
    for row in rows:
        yield [_cell(value) for value in (
            row["period"], row["start"].isoformat().replace("+00:00", "Z"), row["dimension"],
            row["group"], row["requests"], row["errors"],
            json.dumps(row["error_types"], sort_keys=True), row["prompt_tokens"],
            row["completion_tokens"], api_usd(row["cost_nanos"]), row["cost_nanos"],
            row["fallbacks"], row["byok"], row["p50_ms"], row["p95_ms"], row["p99_ms"],
            row["ttft_p50_ms"])]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(org: Organization, query: AnalyticsQuery) -> StreamingHttpResponse:
    """The range's rollups of the chosen bucket and dimension as a streamed CSV download."""
    writer = csv.writer(_Echo())
    rows = _rows(org, query, [query.dimension]).values(
        "period", *FIGURES, "start", "p50_ms", "p95_ms", "p99_ms", "ttft_p50_ms",
    ).iterator(chunk_size=2000)
    response = StreamingHttpResponse((writer.writerow(r) for r in csv_rows(rows)),
                                     content_type="text/csv; charset=utf-8")
    name = f"analytics-{org.slug}-{query.bucket}-{query.group_by}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
