"""A key policy's rpm and tpm win over the operator's limits for that key (in-process counts)."""

import asyncio

import pytest

from core.errors import RateLimited
from routing.gateway.config import LimitConfig
from routing.gateway.limits import Limiter


def limiter(**overrides):
    return Limiter(LimitConfig(key_rpm=100, key_tpm=1_000_000, org_rpm=1_000, org_tpm=10_000_000,
                               key_read_rpm=100, auth_failures_per_min=10,
                               overrides=overrides))


def admit_all(limits, n, **policy):
    async def run():
        admitted = 0
        for _ in range(n):
            try:
                await limits.admit(7, 70, **policy)
            except RateLimited as refusal:
                return admitted, refusal
            admitted += 1
        return admitted, None
    return asyncio.run(run())


@pytest.mark.parametrize(("overrides", "policy_rpm", "admitted"), [
    ({}, 3, 3),  # below the default
    ({"key:7": {"rpm": 2}}, 5, 5),  # above the operator's override: the key policy wins
    ({"key:7": {"rpm": 2}}, None, 2),  # no key policy: the operator's override stays
])
def test_key_policy_rpm(overrides, policy_rpm, admitted):
    count, refusal = admit_all(limiter(**overrides), 10, key_rpm=policy_rpm)
    assert count == admitted
    assert refusal.metadata["limit"] == admitted and refusal.metadata["limit_unit"] == "requests"


def test_key_policy_tpm():
    limits = limiter()
    assert admit_all(limits, 1, key_tpm=50) == (1, None)
    limits.add_tokens(7, 70, 50)  # the minute's tokens are spent
    count, refusal = admit_all(limits, 1, key_tpm=50)
    assert count == 0
    assert refusal.metadata == {"limit_scope": "key", "limit_unit": "tokens", "limit": 50,
                                "retry_after": refusal.metadata["retry_after"]}
    # Another key of the org, without that policy, still has the default budget.
    assert asyncio.run(limits.admit(8, 70)) is None
