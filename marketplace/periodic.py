"""The in-process periodic timer: Celery beat for the embedded default.

With a real broker, `celery beat` (DatabaseScheduler) sends `settings.CELERY_BEAT_SCHEDULE` to
workers. With no broker (`make run` on a laptop) nothing would run them, so `make run` starts
this timer: one daemon thread that runs each entry in-process on its schedule, as beat would
(first run one interval after start). Entries use beat's format,
`{"name": {"task": "app.tasks.x", "schedule": seconds | timedelta | crontab, "args": (),
"kwargs": {}}}`; a failing task is logged and retried on its next tick, never stops the timer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from celery import Celery
from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections

from marketplace.celery import app as celery_app

logger = logging.getLogger(__name__)

# Upper bound on one sleep, so a stop request or a clock jump is noticed within this time.
MAX_SLEEP_S = 5.0


@dataclass
class _Entry:
    name: str
    task_name: str
    schedule: object
    args: tuple
    kwargs: dict
    last_run_at: datetime
    runs: int = 0
    failures: int = 0


@dataclass
class PeriodicTimer:
    """Run beat-style schedule entries in a background thread until `stop()`."""

    app: Celery
    schedule: dict
    _entries: list[_Entry] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.app.autodiscover_tasks(force=True)
        now = self.app.now()
        for name, spec in self.schedule.items():
            if spec["task"] not in self.app.tasks:
                # A typo in a schedule would otherwise go silently unrun: fail at start instead.
                raise LookupError(f"periodic entry {name!r}: no task named {spec['task']!r}")
            self._entries.append(
                _Entry(
                    name=name,
                    task_name=spec["task"],
                    schedule=maybe_schedule(spec["schedule"], app=self.app),
                    args=tuple(spec.get("args", ())),
                    kwargs=dict(spec.get("kwargs", {})),
                    last_run_at=now,
                )
            )

    def run_pending(self) -> float:
        """Run every due entry once; return seconds until the next one may be due."""
        next_check_s = MAX_SLEEP_S
        for entry in self._entries:
            due, next_s = entry.schedule.is_due(entry.last_run_at)
            if due:
                entry.last_run_at = self.app.now()
                self._run(entry)
            next_check_s = min(next_check_s, max(float(next_s), 0.0))
        return next_check_s

    def _run(self, entry: _Entry) -> None:
        try:
            result = self.app.tasks[entry.task_name].apply(args=entry.args, kwargs=entry.kwargs)
            if result.failed():
                raise result.result
            entry.runs += 1
        except Exception:
            entry.failures += 1
            logger.exception("periodic task %s (%s) failed", entry.name, entry.task_name)
        finally:
            # This thread keeps its own DB connection; drop it if broken or past its age.
            close_old_connections()

    def runs(self) -> dict[str, int]:
        """Return how many times each entry has completed successfully."""
        return {entry.name: entry.runs for entry in self._entries}

    def failures(self) -> dict[str, int]:
        """Return how many times each entry has raised."""
        return {entry.name: entry.failures for entry in self._entries}

    def start(self) -> PeriodicTimer:
        self._thread = threading.Thread(target=self._loop, name="periodic-timer", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.run_pending())

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop and wait for the task it may be running to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def start_embedded_timer() -> PeriodicTimer | None:
    """Start the timer for settings.CELERY_BEAT_SCHEDULE when there is no broker, else None.

    With CELERY_BROKER_URL set, `celery beat` owns the schedule; running it here too would run
    every task twice.
    """
    if settings.CELERY_BROKER_URL:
        return None
    return PeriodicTimer(app=celery_app, schedule=settings.CELERY_BEAT_SCHEDULE).start()
