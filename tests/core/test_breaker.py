"""The Redis breaker: opens after consecutive failures, probes once per interval, logs once."""

import logging

from core.breaker import Breaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_opens_after_threshold_probes_once_per_interval_and_closes_on_success(caplog):
    clock = Clock()
    breaker = Breaker("limiter", logging.getLogger("test.breaker"), threshold=3, reset_s=5.0,
                      clock=clock)
    caplog.set_level(logging.WARNING, logger="test.breaker")
    for _ in range(2):
        assert breaker.allow()
        breaker.failure(TimeoutError())
    assert breaker.allow() and not breaker.is_open  # two failures: still closed
    breaker.failure(OSError("refused"))
    assert breaker.is_open and not breaker.allow()

    clock.now += 5.0
    assert breaker.allow()  # the half-open probe
    assert not breaker.allow()  # only one
    breaker.failure(TimeoutError())
    assert not breaker.allow()
    clock.now += 5.0
    assert breaker.allow()
    breaker.success()
    assert not breaker.is_open and breaker.allow()

    messages = [r.getMessage() for r in caplog.records]
    # Four failures in two intervals: one line per interval, then "available again".
    assert messages == [
        "limiter: Redis unavailable (TimeoutError); falling back",
        "limiter: Redis unavailable (TimeoutError); falling back (2 more since the last report)",
        "limiter: Redis available again",
    ]
    assert all(r.exc_info is None for r in caplog.records)
