"""The gateway's database threads: every job drops a dead connection and fails fast.

Django closes stale connections around each request it serves (request_started/finished); the
gateway's own threads have no request cycle, so without this a connection killed by a database
restart stays in its thread and every later job fails on it. Here each job hands its
connection back to Django's pool when done (the pool checks it on the next checkout and
replaces a dead one), a database error becomes a 503 with Retry-After, and a job with no answer
after `timeout_s` (a hung server) fails its caller with the same 503 while the thread finishes
in the background.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connections

from core.errors import ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

# Errors that mean "the database is unreachable or going away", not "this query is wrong".
# psycopg_pool's PoolTimeout is a psycopg.OperationalError.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                      psycopg.InterfaceError)


def database_unavailable(exc: BaseException | None = None) -> ServiceUnavailable:
    if exc is not None:
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable("The database is temporarily unavailable; retry in a few seconds.")


def _run_job(outer: concurrent.futures.Future[T], job: Callable[[], T]) -> None:
    if outer.done():  # its caller already gave up (timed out): skip the stale work
        return
    try:
        result = job()
    except UNAVAILABLE_ERRORS as exc:
        _fail(outer, database_unavailable(exc))
    except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
        _fail(outer, exc)
    else:
        _succeed(outer, result)
    finally:
        _release_connections()


def _release_connections() -> None:
    """Hand pooled connections back (checked at the next checkout); drop other broken ones."""
    for conn in connections.all(initialized_only=True):
        try:
            if getattr(conn, "pool", None) is not None:
                conn.close()  # back to psycopg's pool, which discards it if it is broken
            else:
                conn.close_if_unusable_or_obsolete()  # SQLite: keep a healthy connection
        except DatabaseError:
            log.debug("closing a broken database connection failed", exc_info=True)


def _succeed(outer: concurrent.futures.Future[T], result: T) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        outer.set_result(result)  # unless it timed out first: the caller has its 503 already


def _fail(outer: concurrent.futures.Future[T], exc: BaseException) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        outer.set_exception(exc)  # as in _succeed


class DatabaseExecutor(concurrent.futures.Executor):
    """`submit()` like an executor (usable with `run_in_executor`), with connection hygiene.

    Wraps one bounded ThreadPoolExecutor; several instances may share it with different
    timeouts (None: wait as long as the job takes, for background work).
    """

    def __init__(self, threads: ThreadPoolExecutor, timeout_s: float | None):
        self._threads = threads
        self._timeout_s = timeout_s

    def submit(self, fn: Callable[P, T], /, *args: P.args,
               **kwargs: P.kwargs) -> concurrent.futures.Future[T]:
        outer: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._threads.submit(_run_job, outer, functools.partial(fn, *args, **kwargs))
        if self._timeout_s is not None:
            # Called from the event loop (run_in_executor), so its timer can do the expiring.
            asyncio.get_running_loop().call_later(self._timeout_s, _expire, outer)
        return outer


def _expire(outer: concurrent.futures.Future[T]) -> None:
    if not outer.done():
        _fail(outer, ServiceUnavailable(
            "The database did not answer in time; retry in a few seconds."))
