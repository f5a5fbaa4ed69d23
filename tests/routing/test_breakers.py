"""Circuit breaker state machine: open on streaks or ratios, half-open once, publish verdicts."""

from routing.breakers import CLOSED, HALF_OPEN, OPEN, BreakerConfig, Breakers

EP = 11


class Clock:
    def __init__(self):
        self.now = 500.0

    def __call__(self):
        return self.now


def make(**config):
    clock = Clock()
    published = []
    breakers = Breakers(BreakerConfig(**config), clock=clock,
                        publisher=lambda endpoint_id, state: published.append((endpoint_id, state)))
    return breakers, clock, published


def test_consecutive_failures_open_and_success_resets_the_streak():
    breakers, _, published = make(consecutive_failures=3, min_requests=1000)
    breakers.record_failure(EP)
    breakers.record_failure(EP)
    breakers.record_success(EP)
    breakers.record_failure(EP)
    breakers.record_failure(EP)
    assert breakers.state(EP) == CLOSED and breakers.allows(EP)
    breakers.record_failure(EP)
    assert breakers.state(EP) == OPEN
    assert not breakers.allows(EP) and not breakers.acquire(EP)
    assert published == [(EP, OPEN)]


def test_failure_ratio_over_the_window_opens():
    breakers, clock, _ = make(consecutive_failures=100, failure_ratio=0.5, min_requests=10,
                              window_s=30)
    for _ in range(4):
        breakers.record_success(EP)
        breakers.record_failure(EP)
    breakers.record_success(EP)
    assert breakers.state(EP) == CLOSED  # 4 of 9: too few requests to judge a ratio
    breakers.record_failure(EP)
    assert breakers.state(EP) == OPEN  # 5 of 10 reached the ratio


def test_ratio_window_forgets_old_failures():
    breakers, clock, _ = make(consecutive_failures=100, failure_ratio=0.5, min_requests=10,
                              window_s=30)
    for _ in range(4):
        breakers.record_failure(EP)
        breakers.record_success(EP)
    clock.now += 31
    for _ in range(8):
        breakers.record_success(EP)
    breakers.record_failure(EP)
    breakers.record_failure(EP)
    assert breakers.state(EP) == CLOSED  # 2 of 10 in this window


def test_half_open_allows_exactly_one_probe_then_closes_on_success():
    breakers, clock, published = make(consecutive_failures=1, cooldown_s=15)
    breakers.record_failure(EP)
    clock.now += 14.9
    assert not breakers.acquire(EP)
    clock.now += 0.2
    assert breakers.state(EP) == HALF_OPEN and breakers.allows(EP)
    assert breakers.acquire(EP) is True
    assert breakers.acquire(EP) is False  # a second request must not probe concurrently
    assert not breakers.allows(EP)
    breakers.record_success(EP)
    assert breakers.state(EP) == CLOSED and breakers.acquire(EP)
    assert published == [(EP, OPEN), (EP, CLOSED)]


def test_failed_probe_reopens_for_a_full_cooldown():
    breakers, clock, published = make(consecutive_failures=1, cooldown_s=10)
    breakers.record_failure(EP)
    clock.now += 10
    assert breakers.acquire(EP)
    breakers.record_failure(EP)
    assert breakers.state(EP) == OPEN
    clock.now += 9
    assert not breakers.acquire(EP)
    clock.now += 1
    assert breakers.acquire(EP)
    assert published == [(EP, OPEN), (EP, OPEN)]


def test_released_probe_can_be_taken_again():
    breakers, clock, _ = make(consecutive_failures=1, cooldown_s=1)
    breakers.record_failure(EP)
    clock.now += 1
    assert breakers.acquire(EP)
    breakers.release(EP)  # the probing request was cancelled: no verdict
    assert breakers.acquire(EP)


def test_remote_changes_apply_without_republishing():
    breakers, clock, published = make(cooldown_s=5)
    breakers.apply_remote(EP, OPEN)
    assert breakers.state(EP) == OPEN and not breakers.allows(EP)
    breakers.apply_remote(EP, CLOSED)
    assert breakers.state(EP) == CLOSED and breakers.acquire(EP)
    assert published == []
    assert breakers.state(999) == CLOSED  # never seen: closed
