"""Random request records for the rollup and analytics tests, and the direct aggregation the
rollups must equal (computed here in Python from the very rows stored)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from observability.models import DIMENSIONS, ERROR_TYPES, SUCCESS
from observability.recording import RequestRow, store_request_records
from observability.rollups import record_groups

MODELS = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "meta/llama-3.1-8b")
PROVIDERS = ("openai", "anthropic", "together")
APPS = ("", "Support bot", "ingest")
TASKS = ("", "coding", "chat", "extraction")


@dataclass
class Expected:
    requests: int = 0
    errors: int = 0
    error_types: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_nanos: int = 0
    fallbacks: int = 0
    byok: int = 0
    latencies: list[int] = field(default_factory=list)
    ttfts: list[int] = field(default_factory=list)

    def figures(self) -> dict:
        return {"requests": self.requests, "errors": self.errors,
                "error_types": self.error_types, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost_nanos": self.cost_nanos,
                "fallbacks": self.fallbacks, "byok": self.byok}


def random_rows(rng: random.Random, orgs_and_keys, hours: list[dt.datetime], n: int,
                prefix: str = "gen") -> list[RequestRow]:
    rows = []
    for i in range(n):
        org, keys = rng.choice(orgs_and_keys)
        hour = rng.choice(hours)
        created = hour + dt.timedelta(seconds=rng.randrange(3600))
        outcome = rng.choices(["success", "refused", "failed"], weights=[7, 2, 1])[0]
        model = rng.choice(MODELS)
        served = outcome == SUCCESS
        error_type = "" if served else rng.choice(ERROR_TYPES)
        count = rng.choice([1, 1, 1, 3, 7]) if outcome == "refused" else 1
        rows.append(RequestRow(
            request_id=f"{prefix}-{i}", created_at=created, org_id=org.pk,
            key_id=rng.choice([*(k.pk for k in keys), None]), model_requested=model,
            status=200 if served else rng.choice([429, 502, 403]), outcome=outcome,
            app=rng.choice(APPS), model_served=model if served else "",
            provider=rng.choice(PROVIDERS) if outcome != "refused" else "",
            error_type=error_type,
            prompt_tokens=rng.randrange(2000) if served else 0,
            completion_tokens=rng.randrange(800) if served else 0,
            cost_nanos=rng.randrange(10**9) if served else 0,
            latency_ms=rng.choice([0, rng.randrange(1, 30), rng.randrange(100, 20_000)]),
            ttft_ms=rng.choice([None, rng.randrange(0, 3000)]) if served else None,
            streamed=rng.random() < 0.5, is_fallback=served and rng.random() < 0.2,
            is_byok=rng.random() < 0.25, task=rng.choice(TASKS), count=count))
    store_request_records(rows)
    return rows


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def day_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def direct_aggregation(rows: list[RequestRow]) -> dict[tuple, Expected]:
    """{(org_id, period, start, dimension, group): Expected} straight from the records."""
    result: dict[tuple, Expected] = defaultdict(Expected)
    for row in rows:
        groups = record_groups(row.model_served, row.model_requested, row.provider, row.key_id,
                               row.app, row.task)
        for period, start in (("hour", hour_of(row.created_at)), ("day", day_of(row.created_at))):
            for dimension, group in zip(DIMENSIONS, groups, strict=True):
                e = result[(row.org_id, period, start, dimension, group)]
                e.requests += row.count
                if row.error_type:
                    e.errors += row.count
                    e.error_types[row.error_type] = e.error_types.get(row.error_type, 0) + row.count
                e.prompt_tokens += row.prompt_tokens
                e.completion_tokens += row.completion_tokens
                e.cost_nanos += row.cost_nanos
                e.fallbacks += row.count if row.is_fallback else 0
                e.byok += row.count if row.is_byok else 0
                if row.outcome == SUCCESS:
                    e.latencies += [row.latency_ms] * row.count
                    if row.ttft_ms is not None:
                        e.ttfts += [row.ttft_ms] * row.count
    return result


def direct_model_task_days(rows: list[RequestRow]) -> dict[tuple, tuple]:
    """{(day, model, task): (served, failed by type, refused, cancelled)}, every org summed."""
    result: dict[tuple, list] = {}
    for row in rows:
        key = (row.created_at.astimezone(dt.UTC).date(), row.model_served or row.model_requested,
               row.task)
        e = result.setdefault(key, [0, {}, 0, 0])
        if row.outcome == "success":
            e[0] += row.count
        elif row.outcome == "failed":
            e[1][row.error_type] = e[1].get(row.error_type, 0) + row.count
        elif row.outcome == "refused":
            e[2] += row.count
        else:
            e[3] += row.count
    return {key: tuple(e) for key, e in result.items()}


def exact_quantile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def within(estimate: float | None, exact: float | None, alpha: float = 0.01) -> bool:
    if exact is None:
        return estimate is None
    if estimate is None:
        return False
    return abs(estimate - exact) <= alpha * exact * (1 + 1e-9) + 1e-9
