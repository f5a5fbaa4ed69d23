"""A circuit breaker for an optional dependency (Redis), and a log line at most once per interval.

Redis is an accelerator here (shared rate-limit counters, revocation fan-out, the page cache):
when it is down or hung, callers fall back to something local. Without a breaker every request
would pay a socket timeout and log a traceback; with one, a few consecutive failures open the
circuit, callers skip Redis outright, and one probe per interval finds out when it is back.
Stdlib only: the gateway, tenancy and the Django cache backend share it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class LogThrottle:
    """Emit a warning at most once per `interval_s` (the rest are counted and reported)."""

    __slots__ = ("_log", "_interval_s", "_clock", "_next_at", "_suppressed")

    def __init__(self, log: logging.Logger, interval_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self._log = log
        self._interval_s = interval_s
        self._clock = clock
        self._next_at = 0.0
        self._suppressed = 0

    def warning(self, message: str, *args: object) -> None:
        now = self._clock()
        if now < self._next_at:
            self._suppressed += 1
            return
        self._next_at = now + self._interval_s
        if self._suppressed:
            message += " (%d more since the last report)"
            args = (*args, self._suppressed)
            self._suppressed = 0
        self._log.warning(message, *args)


class Breaker:
    """Closed -> open after `threshold` consecutive failures -> one probe per `reset_s`.

    `allow()` says whether to try the dependency now; report the outcome with `success()` or
    `failure(exc)`. While open, `allow()` is False except for one caller per interval (the
    half-open probe). Failures log "<name>: Redis unavailable ..." at most once per interval,
    without a traceback; the first success after that logs that it is back. Single-threaded use (an
    event loop) needs no lock; in threads, a race only costs an extra probe.
    """

    __slots__ = ("name", "_threshold", "_reset_s", "_clock", "_failures", "_open_until",
                 "_log", "_throttle", "_down")

    def __init__(self, name: str, log: logging.Logger, *, threshold: int = 3,
                 reset_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self._threshold = max(1, threshold)
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0  # 0: closed
        self._log = log
        self._throttle = LogThrottle(log, reset_s, clock)
        self._down = False

    @property
    def is_open(self) -> bool:
        return self._open_until != 0.0

    def allow(self) -> bool:
        open_until = self._open_until
        if open_until == 0.0:
            return True
        now = self._clock()
        if now < open_until:
            return False
        # Half-open: this caller probes; others keep skipping until it reports.
        self._open_until = now + self._reset_s
        return True

    def success(self) -> None:
        self._failures = 0
        if self._open_until != 0.0 or self._down:
            self._open_until = 0.0
            if self._down:
                self._down = False
                self._log.warning("%s: Redis available again", self.name)

    def failure(self, exc: BaseException | None = None) -> None:
        self._failures += 1
        self._down = True
        if self._failures >= self._threshold or self._open_until != 0.0:
            self._open_until = self._clock() + self._reset_s
        self._throttle.warning("%s: Redis unavailable (%s); falling back", self.name,
                               _describe(exc))


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
