"""Routing's Celery tasks (the endpoint-health rollup).

`rollup_endpoint_health` runs every minute (settings.CELERY_BEAT_SCHEDULE): it reads the last
day's usage through billing's selector and writes 5-minute, 30-minute, 1-hour and 1-day figures per
endpoint through catalog's service. Idempotent: each run replaces the previous figures.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from celery import shared_task
from django.utils import timezone

from billing.selectors.usage import list_usage_for_health
from catalog.services import replace_endpoint_health

WINDOWS = {"5m": dt.timedelta(minutes=5), "30m": dt.timedelta(minutes=30),
           "1h": dt.timedelta(hours=1),
           "1d": dt.timedelta(days=1)}
BPS = 10_000

# (endpoint_id, created_at, ok, latency_ms, ttft_ms, tokens_per_s); see _samples.
Sample = tuple[int, dt.datetime, bool, int | None, int | None, int | None]


def _percentile(sorted_values: list[int], pct: int) -> int | None:
    """Nearest-rank percentile of already sorted integers."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct * len(sorted_values) / 100))
    return sorted_values[rank - 1]


def _is_success_status(status: object) -> bool:
    return isinstance(status, int) and 200 <= status < 300


def _samples(records: list[dict[str, Any]]) -> Iterator[Sample]:
    """(endpoint_id, created_at, ok, latency_ms, ttft_ms, tokens_per_s) per upstream attempt.

    A record that was answered counts as one success for its endpoint; each failed attempt it
    lists counts as one error for that attempt's endpoint. Rate-limited attempts (429) count
    as neither, as OpenRouter computes uptime.
    """
    for r in records:
        for attempt in r["attempts"] or []:
            status = attempt.get("status")
            if status == 429 or _is_success_status(status) or attempt.get("endpoint_id") is None:
                continue
            yield attempt["endpoint_id"], r["created_at"], False, None, None, None
        if r["endpoint_id"] is None or r["cancelled"] or r["finish_reason"] == "error":
            continue
        latency, ttft = r["latency_ms"], r["ttft_ms"]
        generating_ms = latency - ttft if (ttft is not None and latency > ttft) else latency
        tps = (r["completion_tokens"] * 1000 // generating_ms
               if generating_ms > 0 and r["completion_tokens"] else None)
        yield r["endpoint_id"], r["created_at"], True, latency, ttft, tps


def compute_endpoint_health(records: list[dict[str, Any]],
                            now: dt.datetime) -> list[dict[str, Any]]:
    """Health figures per endpoint and window from usage rows (pure: no database)."""
    buckets: dict[tuple[int, str], list[Sample]] = defaultdict(list)
    for sample in _samples(records):
        endpoint_id, created_at = sample[0], sample[1]
        for window, span in WINDOWS.items():
            if created_at >= now - span:
                buckets[(endpoint_id, window)].append(sample)
    figures = []
    for (endpoint_id, window), samples in sorted(buckets.items()):
        ok = [s for s in samples if s[2]]
        latencies = sorted(s[3] for s in ok if s[3] is not None)  # always set when ok
        ttfts = sorted(s[4] for s in ok if s[4] is not None)
        speeds = sorted(s[5] for s in ok if s[5] is not None)
        total = len(samples)
        uptime = (len(ok) * BPS + total // 2) // total
        figures.append({
            "endpoint_id": endpoint_id, "window": window, "sample_count": total,
            "p50_latency_ms": _percentile(latencies, 50),
            "p75_latency_ms": _percentile(latencies, 75),
            "p90_latency_ms": _percentile(latencies, 90),
            "p99_latency_ms": _percentile(latencies, 99),
            "p50_ttft_ms": _percentile(ttfts, 50), "p99_ttft_ms": _percentile(ttfts, 99),
            "p50_tokens_per_s": _percentile(speeds, 50),
            # OpenRouter's throughput pN is the speed N % of answers reach: the slow tail.
            "p75_tokens_per_s": _percentile(speeds, 25),
            "p90_tokens_per_s": _percentile(speeds, 10),
            "p99_tokens_per_s": _percentile(speeds, 1),
            "uptime_bps": uptime, "error_rate_bps": BPS - uptime,
        })
    return figures


@shared_task(name="routing.tasks.rollup_endpoint_health")
def rollup_endpoint_health() -> int:
    """Recompute every endpoint's health from the last day of usage; returns rows written."""
    now = timezone.now()
    records = list_usage_for_health(now - WINDOWS["1d"])
    written: int = replace_endpoint_health(compute_endpoint_health(records, now), now)
    return written
