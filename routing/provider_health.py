"""The staff provider-health report: every endpoint's rolled-up health and its breaker.

Figures come from the endpoint-health rollup (`routing.tasks.rollup_endpoint_health`, every
minute, over usage records) and breakers from what the gateways report
(routing/breaker_states.py). Three queries whatever the number of endpoints: the endpoints
with their provider and model, their health rows, the providers for the filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.selectors import get_endpoint_health, list_endpoints, list_providers
from catalog.snapshot import HealthView
from routing.breaker_states import read_open_breakers

WINDOWS = ("5m", "1h", "1d")
WINDOW_LABELS = {"5m": "Last 5 minutes", "1h": "Last hour", "1d": "Last day"}
DEFAULT_WINDOW = "1h"
# sort name -> (label, figure read from a window, True when a higher figure is worse)
SORTS: dict[str, tuple[str, Callable[[HealthView], int | None], bool]] = {
    "errors": ("Error rate", lambda h: h.error_rate_bps, True),
    "p50": ("p50 latency", lambda h: h.p50_latency_ms, True),
    "p99": ("p99 latency", lambda h: h.p99_latency_ms, True),
    "throughput": ("Throughput", lambda h: h.p50_tokens_per_s, False),
    "uptime": ("Uptime", lambda h: h.uptime_bps, False),
    "samples": ("Samples", lambda h: h.sample_count, True),
}
WORST = "worst"


@dataclass(frozen=True)
class EndpointHealthRow:
    endpoint_id: int
    model: str
    provider: str
    provider_slug: str
    status: str
    breaker_opened_at: dt.datetime | None
    windows: dict[str, HealthView | None] = field(default_factory=dict)

    def cells(self) -> list[HealthView | None]:
        return [self.windows.get(w) for w in WINDOWS]


@dataclass(frozen=True)
class HealthReport:
    rows: list[EndpointHealthRow]
    breakers_known: bool  # False: no Redis to read the gateways' verdicts from
    open_breakers: int


def _measured(view: HealthView | None) -> HealthView | None:
    return view if view is not None and view.sample_count else None


def _figure_key(view: HealthView | None, read: Callable[[HealthView], int | None],
                worse_high: bool) -> tuple[bool, int]:
    """Worst first, unmeasured last."""
    value = read(view) if view is not None else None
    if value is None:
        return (True, 0)
    return (False, -value if worse_high else value)


def sort_rows(rows: list[EndpointHealthRow], sort: str, window: str) -> list[EndpointHealthRow]:
    """Worst first: by one figure of one window, or (`worst`) open breaker, then error rate
    over the window, then p99 latency; ties by model and provider."""
    rows = sorted(rows, key=lambda r: (r.model, r.provider))
    if sort == WORST:
        errors, p99 = SORTS["errors"], SORTS["p99"]
        return sorted(rows, key=lambda r: (
            r.breaker_opened_at is None,
            _figure_key(r.windows.get(window), errors[1], errors[2]),
            _figure_key(r.windows.get(window), p99[1], p99[2])))
    _label, read, worse_high = SORTS[sort]
    return sorted(rows, key=lambda r: _figure_key(r.windows.get(window), read, worse_high))


def provider_choices() -> list[tuple[str, str]]:
    return [(p.slug, p.name) for p in list_providers()]


def build_report(*, provider_slug: str | None, sort: str, window: str) -> HealthReport:
    endpoints = list(list_endpoints(provider_slug=provider_slug or None))
    health = get_endpoint_health(e.id for e in endpoints)
    opened = read_open_breakers()
    rows = [EndpointHealthRow(
        endpoint_id=e.id, model=e.model.slug, provider=e.provider.name,
        provider_slug=e.provider.slug, status=e.status,
        breaker_opened_at=(opened or {}).get(e.id),
        windows={w: _measured(health.get(e.id, {}).get(w)) for w in WINDOWS},
    ) for e in endpoints]
    return HealthReport(rows=sort_rows(rows, sort, window), breakers_known=opened is not None,
                        open_breakers=sum(r.breaker_opened_at is not None for r in rows))
