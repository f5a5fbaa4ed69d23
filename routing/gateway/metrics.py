"""The gateway's Prometheus metrics: observed once per request, state read when scraped.

Per request, `observe()` is the one call (from where the request's outcome is known): a few
counter increments and three histogram observations on children cached per label tuple, so
the hot path pays a dict lookup and a handful of additions, no label resolution. Everything
that is state rather than an event (open holds, the settlement and content queues, breaker
states) costs nothing per request: `GatewayStateCollector` reads it from the `Gateway` when
`/metrics` is scraped (marketplace/metrics.py serves it). Under several workers
(PROMETHEUS_MULTIPROC_DIR) a scrape reaches one worker only, so each gateway instead copies
that state into multiprocess gauges every few seconds (`sample_state`), which the scrape sums.

Prometheus metrics are process-wide by nature (its registry is), so the metric objects and
their cached children are the one mutable state at module level in the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway
    from routing.gateway.seams import RequestRow

_PM = ("provider", "model")
# Seconds. Latency spans a cached 50 ms answer to a long reasoning call; overhead is ours.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_OVERHEAD_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

REQUESTS = Counter("switchyard_requests", "Inference requests answered, by outcome status.",
                   [*_PM, "status"])
ERRORS = Counter("switchyard_errors", "Inference requests that failed, by error type.",
                 [*_PM, "error_type"])
LATENCY = Histogram("switchyard_request_latency_seconds",
                    "Time from receiving an inference request to its settlement.", _PM,
                    buckets=_LATENCY_BUCKETS)
TTFT = Histogram("switchyard_ttft_seconds", "Time to the first streamed token.", _PM,
                 buckets=_TTFT_BUCKETS)
OVERHEAD = Histogram("switchyard_gateway_overhead_seconds",
                     "The gateway's own time per request (latency minus upstream waits).",
                     buckets=_OVERHEAD_BUCKETS)
TOKENS = Counter("switchyard_tokens", "Tokens billed, by kind (prompt or completion).",
                 [*_PM, "kind"])
SPEND = Counter("switchyard_spend_nanos_usd",
                "What callers were charged, in nano-USD (integer increments).", _PM)

# Children per label tuple: labels() resolves and locks each time; a dict lookup does not.
_request_children: dict[tuple[str, str, str], Any] = {}
_error_children: dict[tuple[str, str, str], Any] = {}
_pm_children: dict[tuple[str, str], tuple[Any, Any, Any, Any, Any]] = {}


def _children(provider: str, model: str) -> tuple[Any, Any, Any, Any, Any]:
    key = (provider, model)
    found = _pm_children.get(key)
    if found is None:
        found = _pm_children[key] = (
            LATENCY.labels(provider, model), TTFT.labels(provider, model),
            TOKENS.labels(provider, model, "prompt"), TOKENS.labels(provider, model, "completion"),
            SPEND.labels(provider, model))
    return found


def observe(*, provider: str, model: str, status: int | str, error_type: str = "",
            prompt_tokens: int = 0, completion_tokens: int = 0, cost_nanos: int = 0,
            latency_s: float | None = None, ttft_s: float | None = None,
            overhead_s: float | None = None) -> None:
    """Count one finished inference request (call it exactly once per request).

    `provider`/`model` are the served endpoint's slugs ("" when none was chosen); `status` the
    HTTP status answered (499: the client left); `error_type` the error code, "" on success.
    """
    status_text = str(status)
    key = (provider, model, status_text)
    counter = _request_children.get(key)
    if counter is None:
        counter = _request_children[key] = REQUESTS.labels(provider, model, status_text)
    counter.inc()
    if error_type:
        error_key = (provider, model, error_type)
        errors = _error_children.get(error_key)
        if errors is None:
            errors = _error_children[error_key] = ERRORS.labels(provider, model, error_type)
        errors.inc()
    if overhead_s is not None:
        OVERHEAD.observe(overhead_s)
    if not provider:
        return  # refused before routing: no latency or usage worth a series
    latency, ttft, prompt, completion, spend = _children(provider, model)
    if latency_s is not None:
        latency.observe(latency_s)
    if ttft_s is not None:
        ttft.observe(ttft_s)
    if prompt_tokens:
        prompt.inc(prompt_tokens)
    if completion_tokens:
        completion.inc(completion_tokens)
    if cost_nanos:
        spend.inc(cost_nanos)


def observe_record(gw: Gateway, row: RequestRow, ctx: RequestContext) -> None:
    """Count a finished request from its request record (Gateway.handle, once per request).

    The model label is the one served, else the one asked for if the catalog knows it (a
    caller's typo must not become a series of its own); the error type is the record's.
    """
    provider, model = row.provider, row.model_served
    if not provider and row.attempts:
        provider, model = served_by(gw, row.attempts)
    if not model and row.model_requested in gw.catalog.snapshot.models:
        model = row.model_requested
    observe(provider=provider, model=model, status=row.status, error_type=row.error_type,
            prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
            cost_nanos=row.cost_nanos, latency_s=row.latency_ms / 1000.0,
            ttft_s=row.ttft_ms / 1000.0 if row.ttft_ms is not None else None,
            # A stream's relay time is not the gateway's: its overhead is what the header said.
            overhead_s=None if row.streamed else ctx.overhead_ms() / 1000.0)


def served_by(gw: Gateway, attempts: list[dict[str, Any]]) -> tuple[str, str]:
    """(provider, model) of the last attempt an error's metadata lists, else ("", "")."""
    for attempt in reversed(attempts):
        endpoint_id = attempt.get("endpoint_id")
        endpoint = (gw.catalog.snapshot.endpoints.get(endpoint_id)
                    if isinstance(endpoint_id, int) else None)
        if endpoint is not None:
            return endpoint.provider.slug, endpoint.model_slug
    return "", ""


# --- State, read when scraped ------------------------------------------------------------------

# A breaker's state as a number: alert on > 0.
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}
_BREAKER_HELP = ("Circuit breaker per endpoint this process has called: "
                 "0 closed, 1 half-open, 2 open.")
_BREAKER_LABELS = ["endpoint_id", "provider", "model"]


def _state(gw: Gateway) -> tuple[int, dict[str, int], list[tuple[list[str], int]]]:
    """(open holds, queue lengths by name, [(breaker labels, value)]) of one gateway."""
    queues = {"settlements": gw.writer.pending, "content": len(gw.content),
              "request_records": len(gw.requests)}
    endpoints = gw.catalog.snapshot.endpoints
    breakers = []
    for endpoint_id, state in gw.upstream.health.breakers.states().items():
        endpoint = endpoints.get(endpoint_id)
        breakers.append(([str(endpoint_id), endpoint.provider.slug if endpoint else "",
                          endpoint.model_slug if endpoint else ""], BREAKER_VALUES[state]))
    return gw.writer.open_holds, queues, breakers


class GatewayStateCollector(Collector):
    """Open holds, queue lengths and breaker states of this process's gateway, when scraped."""

    def __init__(self, gateway: Callable[[], Gateway | None]):
        self._gateway = gateway

    def collect(self) -> Iterator[Metric]:
        gw = self._gateway()
        if gw is None:
            return
        holds, queues, breakers = _state(gw)
        yield GaugeMetricFamily("switchyard_open_holds",
                                "Admission holds this process has open.", value=holds)
        queue = GaugeMetricFamily("switchyard_queue_length",
                                  "Items waiting in the gateway's in-memory queues.",
                                  labels=["queue"])
        for name, length in queues.items():
            queue.add_metric([name], length)
        yield queue
        states = GaugeMetricFamily("switchyard_breaker_state", _BREAKER_HELP,
                                   labels=_BREAKER_LABELS)
        for labels, value in breakers:
            states.add_metric(labels, value)
        yield states


# Under several workers: the same state, copied into gauges the multiprocess collector sums
# (holds, queues) or maxes (breakers: the worst any live worker sees). In no registry: their
# values live in the multiprocess directory's files, and a single process uses the collector.
_HOLDS = Gauge("switchyard_open_holds", "Admission holds the gateway processes have open.",
               multiprocess_mode="livesum", registry=None)
_QUEUES = Gauge("switchyard_queue_length", "Items waiting in the gateways' in-memory queues.",
                ["queue"], multiprocess_mode="livesum", registry=None)
_BREAKERS = Gauge("switchyard_breaker_state", _BREAKER_HELP, _BREAKER_LABELS,
                  multiprocess_mode="livemax", registry=None)


def copy_state(gw: Gateway) -> None:
    holds, queues, breakers = _state(gw)
    _HOLDS.set(holds)
    for name, length in queues.items():
        _QUEUES.labels(name).set(length)
    for labels, value in breakers:
        _BREAKERS.labels(*labels).set(value)


async def sample_state(gw: Gateway, every_s: float) -> None:
    """Copy the gateway's state into the multiprocess gauges every `every_s` (a task)."""
    while True:
        with contextlib.suppress(Exception):
            copy_state(gw)
        await asyncio.sleep(every_s)
