"""Live endpoint health in this process: moving averages and recent outages.

Figures are exponentially weighted moving averages (EWMA, weight `alpha` on the newest sample)
of total latency, time to first token and output throughput (tokens per second), plus the time
of the last failure. The routing policy reads them through `Health`, which also owns the
circuit breakers, so one object answers "may I use this endpoint, and how good is it?".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from routing.breakers import Breakers


@dataclass(slots=True)
class EndpointStats:
    latency_ms: float | None = None
    ttft_ms: float | None = None
    throughput_tps: float | None = None
    last_failure_at: float | None = None
    successes: int = 0
    failures: int = 0


def _ewma(old: float | None, sample: float, alpha: float) -> float:
    return sample if old is None else old + alpha * (sample - old)


class Health:
    """EWMA figures and breakers for every endpoint this process has called."""

    def __init__(self, breakers: Breakers | None = None, *, alpha: float = 0.2,
                 outage_window_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.breakers = breakers or Breakers(clock=clock)
        self.alpha = alpha
        self.outage_window_s = outage_window_s
        self._clock = clock
        self._stats: dict[int, EndpointStats] = {}

    def stats(self, endpoint_id: int) -> EndpointStats | None:
        return self._stats.get(endpoint_id)

    def record_success(self, endpoint_id: int, *, latency_ms: float,
                       ttft_ms: float | None = None, completion_tokens: int = 0) -> None:
        stats = self._stats.setdefault(endpoint_id, EndpointStats())
        alpha = self.alpha
        stats.successes += 1
        stats.latency_ms = _ewma(stats.latency_ms, latency_ms, alpha)
        first = ttft_ms if ttft_ms is not None else latency_ms
        stats.ttft_ms = _ewma(stats.ttft_ms, first, alpha)
        generating_ms = latency_ms - first
        if completion_tokens > 0 and generating_ms > 0:
            tps = completion_tokens * 1000.0 / generating_ms
            stats.throughput_tps = _ewma(stats.throughput_tps, tps, alpha)
        self.breakers.record_success(endpoint_id)

    def record_failure(self, endpoint_id: int, *, trips_breaker: bool = True) -> None:
        """A failed attempt. A rate limit (`trips_breaker=False`) marks a recent outage, so
        ranking prefers other endpoints for a while, but is no sign of a broken endpoint."""
        stats = self._stats.setdefault(endpoint_id, EndpointStats())
        stats.failures += 1
        stats.last_failure_at = self._clock()
        if trips_breaker:
            self.breakers.record_failure(endpoint_id)
        else:
            self.breakers.release(endpoint_id)

    # Reads for the policy: cheap dict lookups, no I/O.

    def breaker_allows(self, endpoint_id: int) -> bool:
        return self.breakers.allows(endpoint_id)

    def recent_outage(self, endpoint_id: int) -> bool:
        stats = self._stats.get(endpoint_id)
        if stats is None or stats.last_failure_at is None:
            return False
        return self._clock() - stats.last_failure_at < self.outage_window_s

    def latency_s(self, endpoint_id: int) -> float | None:
        """Typical time to first token in seconds (what OpenRouter's latency means)."""
        stats = self._stats.get(endpoint_id)
        return None if stats is None or stats.ttft_ms is None else stats.ttft_ms / 1000.0

    def throughput(self, endpoint_id: int) -> float | None:
        stats = self._stats.get(endpoint_id)
        return None if stats is None else stats.throughput_tps
