"""Redis faults under load: a private redis-server paused (SIGSTOP), killed and restarted.

Redis only accelerates (shared limit counters, revocation fan-out, the page cache): while it
is hung or down, requests keep being answered promptly, nothing answers 500, the log says so
once per interval, and the books stay exact (every answered request has its usage record and
the wallet moved by exactly their charges).
"""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from billing.models import UsageRecord, Wallet
from marketplace.tenancy.key_services import revoke_api_key
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.gateway.helpers import wait_usage_record

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
FUNDED_NANOS = 10 * 1_000_000_000
pytestmark = [pytest.mark.redis]


def _drive(urls, key, n, concurrency=4):
    """`n` completions over `urls`, `concurrency` at a time: [(status, seconds, request id)]."""
    def one(i):
        started = time.monotonic()
        response = httpx.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=BODY,
                              headers={"Authorization": f"Bearer {key}"}, timeout=30)
        return response.status_code, time.monotonic() - started, response.headers.get(
            "x-request-id")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(n)))


def _p95(seconds):
    ordered = sorted(seconds)
    return ordered[int(0.95 * (len(ordered) - 1))]


def _assert_books_exact(org, answered_ids):
    for request_id in answered_ids:
        wait_usage_record(request_id, timeout_s=15)
    deadline = time.monotonic() + 15
    while Wallet.objects.get(org=org).held_nanos:
        assert time.monotonic() < deadline, "holds were never released"
        time.sleep(0.1)
    charged = sum(UsageRecord.objects.filter(org=org).values_list("charge_nanos", flat=True))
    assert charged > 0
    assert Wallet.objects.get(org=org).balance_nanos == FUNDED_NANOS - charged


def _wait_log(server, pattern, timeout_s=20, poke=None):
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, server.log_text()):
        assert time.monotonic() < deadline, f"no {pattern!r} in:\n{server.log_text()}"
        if poke is not None:
            poke()
        time.sleep(0.2)


def test_hung_redis_costs_a_few_slow_requests_then_none(sandbox_catalog, funded_key,
                                                         start_gateway, private_redis):
    gateway = start_gateway(REDIS_URL=private_redis.url, GATEWAY_REDIS_BREAKER_RESET_S="2")
    key = funded_key.plaintext
    before = _drive([gateway.url], key, 8)
    assert {status for status, _, _ in before} == {200}

    private_redis.pause()
    try:
        hung = _drive([gateway.url], key, 40)
        page = httpx.get(f"{gateway.url}/models", timeout=10)
        read = httpx.get(f"{gateway.url}/v1/models", timeout=10,
                         headers={"Authorization": f"Bearer {key}"})
    finally:
        private_redis.resume()

    assert [status for status, _, _ in hung] == [200] * 40
    # A hung Redis used to cost every request the limiter's whole timeout (2 s); the breaker
    # leaves only the first few calls (and one probe per interval) waiting for a short one.
    assert _p95([seconds for _, seconds, _ in hung[8:]]) < 1.0, hung
    assert (page.status_code, read.status_code) == (200, 200)

    # Redis answers again: the next probe (within the 2 s interval) finds it and the limiter
    # goes back to it; generous slack for a loaded machine.
    _wait_log(gateway, r"rate limiter: Redis available again", timeout_s=10,
              poke=lambda: _drive([gateway.url], key, 1))
    after = _drive([gateway.url], key, 8)
    assert {status for status, _, _ in after} == {200}
    _assert_books_exact(funded_key.org, [rid for _, _, rid in before + hung + after])


def test_killed_then_restarted_redis(sandbox_catalog, funded_key, make_org_key, start_gateway,
                                     private_redis):
    limited = make_org_key(org=funded_key.org)  # 6 a minute: shows where counts live
    env = {"REDIS_URL": private_redis.url, "GATEWAY_REDIS_BREAKER_RESET_S": "1",
           "GATEWAY_LIMIT_OVERRIDES": json.dumps({f"key:{limited.key.pk}": {"rpm": 6}})}
    first, second = start_gateway(**env), start_gateway(**env)
    urls, key = [first.url, second.url], funded_key.plaintext
    before = _drive(urls, key, 8)

    private_redis.kill()
    down_started = time.monotonic()
    down = _drive(urls, key, 40)
    pages = [httpx.get(f"{url}/models", timeout=10) for url in urls]
    reads = [httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"},
                       timeout=10) for url in urls]
    down = down + _drive(urls, key, 20)
    down_s = time.monotonic() - down_started

    assert [status for status, _, _ in before + down] == [200] * 68
    assert [p.status_code for p in pages] == [200, 200]
    assert [r.status_code for r in reads] == [200, 200]
    for server in (first, second):
        log = server.log_text()
        assert "Traceback" not in log, log
        # Said once per 1 s interval (a little slack for the probe timing), not per request.
        warnings = len(re.findall(r"rate limiter: Redis unavailable", log))
        assert 1 <= warnings <= down_s + 2, log
        assert "Django cache: Redis unavailable" in log  # the /models page: a miss, not a 500

    private_redis.start()  # the same port
    for server in (first, second):  # recovery: the next probe (1 s interval) finds it
        _wait_log(server, r"rate limiter: Redis available again", timeout_s=10,
                  poke=lambda server=server: _drive([server.url], key, 1))
    # Counts are shared through Redis again: two processes admit the limit once, not twice.
    while time.time() % 60 > 40:
        time.sleep(0.5)
    burst = _drive(urls, limited.plaintext, 20, concurrency=8)
    assert sorted(status for status, _, _ in burst) == [200] * 6 + [429] * 14
    answered = [rid for status, _, rid in before + down + burst if status == 200]
    _assert_books_exact(funded_key.org, answered)


def test_revoking_a_key_with_redis_hung_returns_promptly(settings, sandbox_catalog, funded_key,
                                                          start_gateway, private_redis):
    gateway = start_gateway(REDIS_URL=private_redis.url)
    auth = {"Authorization": f"Bearer {funded_key.plaintext}"}
    assert httpx.get(f"{gateway.url}/v1/models", headers=auth, timeout=10).status_code == 200
    settings.REDIS_URL = private_redis.url
    owner = funded_key.org.memberships.get(role=Role.OWNER).user

    private_redis.pause()
    try:
        started = time.monotonic()
        revoke_api_key(org=funded_key.org, key=funded_key.key,
                       actor=Actor(role=Role.OWNER, user=owner))
        revoke_s = time.monotonic() - started
        # Without the message the gateway still drops the key within its cache TTL (1 s).
        deadline = time.monotonic() + 5
        while httpx.get(f"{gateway.url}/v1/models", headers=auth,
                        timeout=10).status_code != 401:
            assert time.monotonic() < deadline, "the revoked key kept working"
            time.sleep(0.1)
    finally:
        private_redis.resume()
    assert revoke_s < 1.0
