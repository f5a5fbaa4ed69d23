"""The hot-path writer's connection pool (billing/hotpath/connections.py) on a real server."""

import asyncio
import time

import pytest

from billing.hotpath.connections import ConnectionPool, PoolTimeout
from billing.hotpath.postgres import django_conninfo

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _pool(**options) -> ConnectionPool:
    defaults = {"max_size": 1, "timeout_s": 0.3, "server_settings": {"synchronous_commit": "off"}}
    return ConnectionPool(django_conninfo(), **{**defaults, **options})


def test_sessions_start_with_the_settings_given_and_are_reused():
    async def go():
        pool = _pool()
        await pool.open()
        try:
            conn = await pool.acquire()
            setting = await conn.fetchval("SHOW synchronous_commit")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            pool.release(conn)
            again = await pool.acquire()
            same = await again.fetchval("SELECT pg_backend_pid()") == pid
            pool.release(again)
            return setting, same
        finally:
            await pool.close()

    assert asyncio.run(go()) == ("off", True)


def test_a_checkout_waits_for_a_release_then_times_out():
    async def go():
        pool = _pool()
        await pool.open()
        try:
            held = await pool.acquire()
            waiter = asyncio.ensure_future(pool.acquire())
            await asyncio.sleep(0.05)
            pool.release(held)  # the waiter gets it
            conn = await waiter
            started = time.monotonic()
            with pytest.raises(PoolTimeout):
                await pool.acquire()  # the only connection is out
            waited = time.monotonic() - started
            pool.release(conn)
            return waited
        finally:
            await pool.close()

    assert 0.25 <= asyncio.run(go()) < 2


def test_a_broken_connection_is_closed_and_replaced():
    async def go():
        pool = _pool()
        await pool.open()
        try:
            conn = await pool.acquire()
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            pool.release(conn, broken=True)  # e.g. its statement was cancelled in flight
            fresh = await pool.acquire()
            other = await fresh.fetchval("SELECT pg_backend_pid()")
            pool.release(fresh)
            return conn.is_closed(), pid != other
        finally:
            await pool.close()

    assert asyncio.run(go()) == (True, True)


def test_a_connection_the_server_ended_is_not_handed_out():
    async def go():
        pool = _pool(max_size=2)
        await pool.open()
        try:
            conn, killer = await pool.acquire(), await pool.acquire()
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            pool.release(conn)
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
            pool.release(killer)
            pool.mark_suspect()  # as after a connection error: checkouts are checked
            await asyncio.sleep(0.1)
            served = set()
            for _ in range(2):
                a = await pool.acquire()
                served.add(await a.fetchval("SELECT pg_backend_pid()"))
                pool.release(a)
            return pid in served
        finally:
            await pool.close()

    assert asyncio.run(go()) is False
