"""Abuse limits: the read routes' own per-key bucket, failed authentication per client address,
and the key cache's LRU eviction.
"""

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
from django.db import connection, transaction

from routing.gateway.auth import KeyCache
from routing.gateway.config import GatewayConfig

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
# uvicorn rewrites the client address from X-Forwarded-For when the peer is in its own
# FORWARDED_ALLOW_IPS (127.0.0.1 by default); point that elsewhere so the gateway's own rule
# (settings.TRUSTED_PROXIES) is what these tests see.
NO_UVICORN_PROXY = {"FORWARDED_ALLOW_IPS": "192.0.2.1"}


def _wait_for_window_start():
    # Fixed one-minute windows: start early in a minute so the test stays inside one window.
    while time.time() % 60 > 35:
        time.sleep(0.5)


def _unknown_key() -> str:
    return "sk-sy-" + secrets.token_urlsafe(32)


def _get(url, path, key, **headers):
    return httpx.get(f"{url}{path}", timeout=10,
                     headers={"Authorization": f"Bearer {key}", **headers})


def _assert_429(response, limit):
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-ratelimit-limit"] == str(limit)
    error = response.json()["error"]
    assert error["code"] == 429
    assert error["type"] == "rate_limit_error"
    return error


def test_read_routes_default_bucket_is_generous_enough_for_polling_dashboards():
    assert GatewayConfig.from_settings().limits.key_read_rpm >= 1_000


@pytest.mark.redis
def test_read_routes_have_their_own_per_key_bucket(sandbox_catalog, funded_key, make_org_key,
                                                   start_gateway):
    other = make_org_key()
    gateway = start_gateway(GATEWAY_KEY_READ_RPM="5", GATEWAY_KEY_RPM="3")
    _wait_for_window_start()
    paths = ["/v1/models", "/v1/key", "/v1/credits", "/v1/models", "/v1/key"]
    reads = [_get(gateway.url, path, funded_key.plaintext) for path in paths]
    assert [r.status_code for r in reads] == [200] * 5
    for path in ("/v1/models", "/v1/credits", "/v1/generation?id=gen-1-x"):
        error = _assert_429(_get(gateway.url, path, funded_key.plaintext), 5)
        assert error["metadata"]["limit_unit"] == "read requests"

    # Completions count in their own bucket: the spent read bucket does not refuse them, and
    # they stop at their own limit.
    auth = {"Authorization": f"Bearer {funded_key.plaintext}"}
    posts = [httpx.post(f"{gateway.url}/v1/chat/completions", json=BODY, headers=auth,
                        timeout=30) for _ in range(4)]
    assert [r.status_code for r in posts[:3]] == [200, 200, 200]
    assert _assert_429(posts[3], 3)["metadata"]["limit_unit"] == "requests"
    # Another key's reads are untouched.
    assert _get(gateway.url, "/v1/models", other.plaintext).status_code == 200


@pytest.mark.postgres
@pytest.mark.redis
def test_failed_auth_is_limited_per_address_before_any_database_read(
        funded_key, start_gateway, private_redis):
    env = {"GATEWAY_AUTH_FAILURES_PER_MIN": "4", "REDIS_URL": private_redis.url,
           **NO_UVICORN_PROXY}
    gateway, second = start_gateway(**env), start_gateway(**env)
    _wait_for_window_start()
    # Rotating X-Forwarded-For from an untrusted peer does not make new addresses.
    for i in range(4):
        response = _get(gateway.url, "/v1/models", _unknown_key(),
                        **{"X-Forwarded-For": f"198.51.100.{i}"})
        assert response.status_code == 401, response.text

    # Lock the key table: any key lookup now waits for this transaction. The refusal must not.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE tenancy_apikey IN ACCESS EXCLUSIVE MODE")
        for key, xff in ((_unknown_key(), "198.51.100.77"), (funded_key.plaintext, None),
                         ("garbage", None)):
            headers = {"X-Forwarded-For": xff} if xff else {}
            error = _assert_429(_get(gateway.url, "/v1/models", key, **headers), 4)
            assert error["metadata"]["limit_scope"] == "address"
    # The count lives in Redis: a second process refuses the same address without a failure
    # of its own.
    _assert_429(_get(second.url, "/v1/models", _unknown_key()), 4)


def test_trusted_proxy_forwarded_address_is_honoured(funded_key, start_gateway):
    gateway = start_gateway(GATEWAY_AUTH_FAILURES_PER_MIN="3", TRUSTED_PROXIES="127.0.0.1",
                            REDIS_URL="", **NO_UVICORN_PROXY)
    _wait_for_window_start()
    attacker = {"X-Forwarded-For": "203.0.113.9, 203.0.113.7"}  # the proxy appended .7
    for _ in range(3):
        assert _get(gateway.url, "/v1/models", _unknown_key(), **attacker).status_code == 401
    _assert_429(_get(gateway.url, "/v1/models", _unknown_key(), **attacker), 3)
    # Another client behind the same proxy is not refused.
    bystander = {"X-Forwarded-For": "203.0.113.8"}
    assert _get(gateway.url, "/v1/models", _unknown_key(), **bystander).status_code == 401
    assert _get(gateway.url, "/v1/models", funded_key.plaintext,
                **bystander).status_code == 200


def test_key_cache_evicts_least_recently_used_keys():
    lookups = []

    def lookup(key_hash):
        lookups.append(key_hash)
        return SimpleNamespace(key_id=len(lookups), org_id=1, scope="inference",
                               name=key_hash, prefix="sk-sy-xx", expires_at=None, revoked=False)

    async def run():
        with ThreadPoolExecutor(max_workers=1) as executor:
            cache = KeyCache(lookup=lookup, hasher=lambda token: token, shape_ok=bool,
                             executor=executor, ttl_s=1.0, max_entries=3)
            await cache.authenticate("hot")
            for n in range(10):  # a stream of one-off keys, while the hot key keeps being used
                await cache.authenticate(f"cold-{n}")
                await cache.authenticate("hot")
            before = len(lookups)
            await cache.authenticate("hot")
            await cache.authenticate("cold-9")
            assert len(lookups) == before  # both still cached
            await cache.authenticate("cold-0")
            assert lookups[-1] == "cold-0"  # evicted long ago: looked up again

    asyncio.run(run())
    assert lookups.count("hot") == 1
