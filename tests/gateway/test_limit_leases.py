"""Leased admissions: busy keys spare Redis calls, and two processes still never admit more than
the limit (two limiters on a real Redis stand in for two gateway processes)."""

import asyncio
import secrets
import time

import pytest
from django.conf import settings

from core.errors import RateLimited
from routing.gateway.config import LimitConfig
from routing.gateway.limits import LEASE_MAX, WINDOW_S, Limiter
from routing.gateway.redis_protocol import RespClient

pytestmark = pytest.mark.redis


class CountingClient(RespClient):
    calls = 0

    async def call(self, *args):
        self.calls += 1
        return await super().call(*args)


def limiters(key_rpm, n=2):
    config = LimitConfig(key_rpm=key_rpm, key_tpm=10**12, org_rpm=10**9, org_tpm=10**12,
                         key_read_rpm=100, auth_failures_per_min=10, overrides={})
    # A generous timeout: a call timed out under a loaded test run would open the breaker, and
    # in-process counting (rightly) admits past the shared limit.
    clients = [CountingClient(settings.REDIS_URL, timeout_s=10.0) for _ in range(n)]
    return [Limiter(config, redis=client) for client in clients], clients


def admit_in_turn(key_rpm, requests):
    """Admit `requests` one after another, alternating between two limiters, in one window:
    (admitted, refused, Redis calls)."""
    async def run():
        group, clients = limiters(key_rpm)
        key, org = secrets.randbelow(10**9), secrets.randbelow(10**9)
        admitted = refused = 0
        try:
            for i in range(requests):
                try:
                    await group[i % 2].admit(key, org)
                    admitted += 1
                except RateLimited:
                    refused += 1
        finally:
            for limiter in group:
                await limiter.close()
        return admitted, refused, sum(client.calls for client in clients)

    # A window that turns mid-test would give a second minute's budget: start in a fresh one.
    if WINDOW_S - time.time() % WINDOW_S < 5:
        time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.1)
    return asyncio.run(run())


def test_a_busy_key_leases_admissions_and_never_exceeds_its_limit():
    admitted, refused, calls = admit_in_turn(key_rpm=5_000, requests=6_000)

    # Unspent leases are lost with the minute: at most one lease a process.
    assert 5_000 - 2 * (LEASE_MAX - 1) <= admitted <= 5_000
    assert refused == 6_000 - admitted
    # Leases grow 1, 2, 4, ... 32: about one call per 32 admissions, then one per refusal.
    assert calls <= admitted / LEASE_MAX + 2 * 6 + refused


def test_keys_with_small_limits_ask_redis_for_every_request():
    admitted, refused, calls = admit_in_turn(key_rpm=40, requests=60)
    assert (admitted, refused, calls) == (40, 20, 60)


def test_concurrent_admissions_from_two_processes_stay_within_the_limit():
    async def run():
        group, _ = limiters(key_rpm=3_000)
        key, org = secrets.randbelow(10**9), secrets.randbelow(10**9)

        async def one(limiter):
            try:
                await limiter.admit(key, org)
            except RateLimited:
                return 0
            return 1
        try:
            return sum(await asyncio.gather(*(one(group[i % 2]) for i in range(4_000))))
        finally:
            for limiter in group:
                await limiter.close()

    if WINDOW_S - time.time() % WINDOW_S < 5:
        time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.1)
    admitted = asyncio.run(run())
    assert 3_000 - 2 * (LEASE_MAX - 1) <= admitted <= 3_000
