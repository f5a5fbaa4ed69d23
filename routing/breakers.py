"""Per-endpoint circuit breakers, one set per gateway process.

A breaker opens after `consecutive_failures` failures in a row, or when failures reach
`failure_ratio` of at least `min_requests` attempts within a `window_s` tumbling window. After
`cooldown_s` it half-opens: exactly one request (the probe) may go through; its success closes
the breaker, its failure re-opens it for another cool-down.

State lives in memory, so the request path never reads Redis. State changes to open or closed
are handed to an optional `publisher(endpoint_id, state)` (the gateway broadcasts them through
Redis pub/sub) and changes heard from other processes come back through `apply_remote`, which
never re-publishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

Publisher = Callable[[int, str], None]


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    consecutive_failures: int = 5
    failure_ratio: float = 0.5
    min_requests: int = 20
    window_s: float = 30.0
    cooldown_s: float = 15.0


@dataclass(slots=True)
class _Breaker:
    state: str = CLOSED
    consecutive: int = 0
    window_start: float = 0.0
    window_total: int = 0
    window_failures: int = 0
    opened_at: float = 0.0
    probe_in_flight: bool = False


class Breakers:
    """All endpoints' breakers for this process. Not thread-safe: one event loop owns it."""

    def __init__(self, config: BreakerConfig | None = None, *,
                 publisher: Publisher | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or BreakerConfig()
        self.publisher = publisher
        self._clock = clock
        self._breakers: dict[int, _Breaker] = {}
        self._not_closed: set[int] = set()  # fast path: most endpoints are closed

    def state(self, endpoint_id: int) -> str:
        breaker = self._breakers.get(endpoint_id)
        if breaker is None:
            return CLOSED
        if breaker.state == OPEN and self._cooled(breaker):
            return HALF_OPEN  # would half-open on the next acquire
        return breaker.state

    def states(self) -> dict[int, str]:
        """Every endpoint this process has a breaker for, with its state (for /metrics)."""
        return {endpoint_id: self.state(endpoint_id) for endpoint_id in list(self._breakers)}

    def allows(self, endpoint_id: int) -> bool:
        """Whether a request could go to this endpoint now (takes nothing; for the policy)."""
        if endpoint_id not in self._not_closed:
            return True
        breaker = self._breakers[endpoint_id]
        if breaker.state == OPEN:
            return self._cooled(breaker)
        return not breaker.probe_in_flight

    def acquire(self, endpoint_id: int) -> bool:
        """Claim the right to send one attempt; in half-open only the first caller gets it."""
        if endpoint_id not in self._not_closed:
            return True
        breaker = self._breakers[endpoint_id]
        if breaker.state == OPEN:
            if not self._cooled(breaker):
                return False
            self._transition(endpoint_id, breaker, HALF_OPEN)
        if breaker.probe_in_flight:
            return False
        breaker.probe_in_flight = True
        return True

    def release(self, endpoint_id: int) -> None:
        """Give back an acquired probe that never produced a verdict (e.g. a cancelled call)."""
        breaker = self._breakers.get(endpoint_id)
        if breaker is not None:
            breaker.probe_in_flight = False

    def record_success(self, endpoint_id: int) -> None:
        breaker = self._breakers.get(endpoint_id)
        if breaker is None:
            breaker = self._breakers[endpoint_id] = _Breaker(window_start=self._clock())
        breaker.probe_in_flight = False
        breaker.consecutive = 0
        self._count(breaker, failed=False)
        if breaker.state != CLOSED:
            self._transition(endpoint_id, breaker, CLOSED)

    def record_failure(self, endpoint_id: int) -> None:
        breaker = self._breakers.setdefault(endpoint_id, _Breaker(window_start=self._clock()))
        breaker.probe_in_flight = False
        breaker.consecutive += 1
        self._count(breaker, failed=True)
        config = self.config
        tripped = (
            breaker.consecutive >= config.consecutive_failures
            or (breaker.window_total >= config.min_requests
                and breaker.window_failures >= config.failure_ratio * breaker.window_total)
        )
        # A failed probe re-opens at once; a closed breaker opens when a threshold trips.
        if breaker.state == HALF_OPEN or (breaker.state == CLOSED and tripped):
            self._open(endpoint_id, breaker)

    def apply_remote(self, endpoint_id: int, state: str) -> None:
        """Adopt another process's state change (without publishing it again)."""
        breaker = self._breakers.setdefault(endpoint_id, _Breaker(window_start=self._clock()))
        if state == OPEN:
            breaker.opened_at = self._clock()
            breaker.probe_in_flight = False
        elif state == CLOSED:
            breaker.consecutive = 0
            breaker.window_total = breaker.window_failures = 0
        breaker.state = state
        if state == CLOSED:
            self._not_closed.discard(endpoint_id)
        else:
            self._not_closed.add(endpoint_id)

    def _cooled(self, breaker: _Breaker) -> bool:
        return self._clock() - breaker.opened_at >= self.config.cooldown_s

    def _count(self, breaker: _Breaker, *, failed: bool) -> None:
        now = self._clock()
        if now - breaker.window_start >= self.config.window_s:
            breaker.window_start, breaker.window_total, breaker.window_failures = now, 0, 0
        breaker.window_total += 1
        breaker.window_failures += failed

    def _open(self, endpoint_id: int, breaker: _Breaker) -> None:
        breaker.opened_at = self._clock()
        self._transition(endpoint_id, breaker, OPEN)

    def _transition(self, endpoint_id: int, breaker: _Breaker, state: str) -> None:
        if breaker.state == state and state != OPEN:
            return
        breaker.state = state
        if state == CLOSED:
            breaker.window_total = breaker.window_failures = 0
            self._not_closed.discard(endpoint_id)
        else:
            self._not_closed.add(endpoint_id)
        # Half-opening is each process's own timing; only verdicts are worth broadcasting.
        if self.publisher is not None and state != HALF_OPEN:
            self.publisher(endpoint_id, state)
