"""Rate limits: never more admitted than the limit, across two gateway processes on Redis."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from marketplace.tenancy.key_services import create_api_key
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _wait_for_window_start():
    # Fixed one-minute windows: start early in a minute so the burst stays inside one window.
    while time.time() % 60 > 40:
        time.sleep(0.5)


def _burst(urls, key, n):
    def one(i):
        return httpx.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=BODY, timeout=60,
                          headers={"Authorization": f"Bearer {key}"})
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(n)))


def _check_refusals(responses, limit):
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) == limit, [r.status_code for r in responses]
    assert len(ok) + len(refused) == len(responses)
    for response in refused:
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["x-ratelimit-limit"] == str(limit)
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert int(response.headers["x-ratelimit-reset"]) > time.time() * 1000
        assert response.json()["error"]["code"] == 429


@pytest.mark.redis
def test_two_processes_sharing_redis_never_admit_more_than_the_key_limit(
        sandbox_catalog, funded_key, start_gateway, sandbox):
    first = start_gateway(GATEWAY_KEY_RPM="12")
    second = start_gateway(GATEWAY_KEY_RPM="12")
    _wait_for_window_start()
    responses = _burst([first.url, second.url], funded_key.plaintext, 40)

    _check_refusals(responses, 12)
    # Both processes served some of the admitted requests: the limit is shared, not per process.
    assert sandbox.control.requests("sandbox-openai") or sandbox.control.requests(
        "sandbox-openai-b")


def test_org_limit_applies_across_the_org_keys(sandbox_catalog, funded_key, start_gateway):
    owner = funded_key.org.memberships.get(role=Role.OWNER).user
    _, second_key = create_api_key(org=funded_key.org, name="second",
                                   actor=Actor(role=Role.OWNER, user=owner))
    gateway = start_gateway(GATEWAY_ORG_RPM="6", REDIS_URL="")
    _wait_for_window_start()
    responses = (_burst([gateway.url], funded_key.plaintext, 5)
                 + _burst([gateway.url], second_key, 5))

    _check_refusals(responses, 6)
    refused = [r for r in responses if r.status_code == 429]
    assert {r.json()["error"]["metadata"]["limit_scope"] for r in refused} == {"org"}
