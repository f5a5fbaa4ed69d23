"""The in-process periodic timer runs beat-style entries on their intervals, in a thread."""

import time
from datetime import timedelta

import pytest

from marketplace.celery import app as celery_app
from marketplace.periodic import PeriodicTimer, start_embedded_timer

CALLS: list[tuple] = []


@celery_app.task(name="tests.periodic.record")
def record(label, times=1):
    CALLS.append((label, times))


@celery_app.task(name="tests.periodic.explode")
def explode():
    raise RuntimeError("boom")


def _wait_until(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def test_entries_run_repeatedly_with_their_args_until_stopped():
    timer = PeriodicTimer(
        app=celery_app,
        schedule={
            "fast": {"task": "tests.periodic.record", "schedule": 0.1, "args": ("fast",)},
            "slow": {
                "task": "tests.periodic.record",
                "schedule": timedelta(hours=1),
                "kwargs": {"label": "slow", "times": 2},
            },
        },
    ).start()
    try:
        assert _wait_until(lambda: len(CALLS) >= 3)
    finally:
        timer.stop()

    assert not timer.alive
    runs_at_stop = timer.runs()["fast"]
    assert runs_at_stop >= 3
    # Nothing runs after stop, and the hourly entry is not due in the first second.
    time.sleep(0.3)
    assert timer.runs() == {"fast": runs_at_stop, "slow": 0}
    assert set(CALLS) == {("fast", 1)}


def test_first_run_waits_one_interval_as_beat_does():
    timer = PeriodicTimer(
        app=celery_app,
        schedule={"x": {"task": "tests.periodic.record", "schedule": 60, "args": ("x",)}},
    )

    timer.run_pending()

    assert CALLS == []


def test_a_failing_task_is_counted_and_does_not_stop_the_others():
    timer = PeriodicTimer(
        app=celery_app,
        schedule={
            "bad": {"task": "tests.periodic.explode", "schedule": 0.05},
            "good": {"task": "tests.periodic.record", "schedule": 0.05, "args": ("good",)},
        },
    ).start()
    try:
        assert _wait_until(lambda: timer.failures()["bad"] >= 2 and timer.runs()["good"] >= 2)
    finally:
        timer.stop()

    assert timer.runs()["bad"] == 0


def test_an_unknown_task_name_fails_at_start():
    with pytest.raises(LookupError, match="no-such.task"):
        PeriodicTimer(app=celery_app, schedule={"typo": {"task": "no-such.task", "schedule": 1}})


def test_embedded_timer_runs_the_settings_schedule_without_a_broker(settings):
    settings.CELERY_BROKER_URL = ""
    settings.CELERY_BEAT_SCHEDULE = {
        "e": {"task": "tests.periodic.record", "schedule": 0.05, "args": ("e",)}
    }

    timer = start_embedded_timer()
    try:
        assert _wait_until(lambda: ("e", 1) in CALLS)
    finally:
        timer.stop()


def test_embedded_timer_stays_off_when_beat_owns_the_schedule(settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    settings.CELERY_BEAT_SCHEDULE = {"e": {"task": "tests.periodic.record", "schedule": 0.05}}

    assert start_embedded_timer() is None
    time.sleep(0.2)
    assert CALLS == []
