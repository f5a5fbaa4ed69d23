"""Health: EWMA figures, outage window, and the breakers it feeds."""

from routing.breakers import OPEN, BreakerConfig, Breakers
from routing.health import Health


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_moving_averages_weight_the_newest_sample_by_alpha():
    health = Health(alpha=0.5)
    health.record_success(1, latency_ms=1000, ttft_ms=200, completion_tokens=80)
    assert health.latency_s(1) == 0.2
    assert health.throughput(1) == 100.0  # 80 tokens in the 800 ms after the first token
    health.record_success(1, latency_ms=600, ttft_ms=100, completion_tokens=250)
    assert health.latency_s(1) == 0.15  # 200 + 0.5 * (100 - 200) ms
    assert health.throughput(1) == 300.0  # 250 tokens in 500 ms: 100 + 0.5 * (500 - 100)
    assert health.stats(1).latency_ms == 800.0
    assert (health.latency_s(2), health.throughput(2)) == (None, None)


def test_without_ttft_latency_stands_in_and_throughput_is_unknown():
    health = Health()
    health.record_success(3, latency_ms=400, completion_tokens=10)
    assert health.latency_s(3) == 0.4
    assert health.throughput(3) is None


def test_outage_is_recent_for_the_window_only():
    clock = Clock()
    health = Health(outage_window_s=30, clock=clock)
    assert health.recent_outage(5) is False
    health.record_failure(5)
    clock.now = 29.9
    assert health.recent_outage(5) is True
    clock.now = 30.0
    assert health.recent_outage(5) is False


def test_failures_and_successes_reach_the_breakers():
    clock = Clock()
    breakers = Breakers(BreakerConfig(consecutive_failures=2, cooldown_s=10), clock=clock)
    health = Health(breakers, clock=clock)
    health.record_failure(9)
    assert health.breaker_allows(9)
    health.record_failure(9)
    assert breakers.state(9) == OPEN and not health.breaker_allows(9)
    clock.now = 10
    assert breakers.acquire(9)
    health.record_success(9, latency_ms=100)
    assert health.breaker_allows(9) and breakers.acquire(9)


def test_rate_limits_mark_an_outage_but_do_not_trip_the_breaker():
    clock = Clock()
    breakers = Breakers(BreakerConfig(consecutive_failures=2), clock=clock)
    health = Health(breakers, clock=clock)
    for _ in range(5):
        health.record_failure(4, trips_breaker=False)
    assert health.recent_outage(4) is True
    assert health.breaker_allows(4) and breakers.state(4) == "closed"
