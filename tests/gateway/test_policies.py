"""Org and key policies at the gateway: what they exclude never reaches its provider.

Each case sends requests that would prefer (`provider.order`) or demand (`provider.only`) the
provider a policy excludes, then reads that provider's request log at the sandbox: nothing
arrived, the preferred-but-excluded request went to an allowed provider, and the demanding one
got a 503 (403 for a denied model) naming the constraint and what it excluded. The providers are
the committed catalog's sandbox ones (catalog/curation.py), as `make run` serves them.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from django.db import transaction

from catalog import services as catalog_services
from catalog.curation import SANDBOX_PROVIDERS
from compliance.fanout import announce_change
from compliance.models import KeyPolicy, OrgPolicy
from tests.gateway.conftest import MINI_PRICE, OPENAI_PARAMS, fund, wait_for_models
from tests.gateway.helpers import wait_usage_record

MINI = "openai/gpt-4o-mini"
LLAMA = "meta-llama/llama-3.3-70b-instruct"
SERVING = {MINI: ["sandbox-openai", "sandbox-eu", "sandbox-trains", "sandbox-retains"],
           LLAMA: ["sandbox-openai", "sandbox-eu"]}
SLUGS = SERVING[MINI]
ENDPOINTS = {slug: len(serving) for slug, serving in SERVING.items()}


def label(slug: str) -> str:
    region = next(p for p in SANDBOX_PROVIDERS if p["slug"] == slug)["regions"][0]
    return f"{MINI}@{slug}/{region}"


@pytest.fixture
def policy_catalog(transactional_db):
    """The four openai-format sandbox providers of the committed catalog (one per trait a
    policy bites on), each serving gpt-4o-mini at one price, two also serving Llama."""
    specs = {p["slug"]: p for p in SANDBOX_PROVIDERS}
    providers = {}
    for slug in SLUGS:
        spec = {k: v for k, v in specs[slug].items() if k not in {"slug", "website"}}
        providers[slug] = catalog_services.create_provider(slug=slug, is_sandbox=True, **spec)
    description = f"Policy catalog {uuid.uuid4().hex[:12]}"
    for model_slug, serving in SERVING.items():
        model = catalog_services.create_model(
            slug=model_slug, name=model_slug, description=description, context_length=128_000)
        for slug in serving:
            catalog_services.create_endpoint(
                model=model, provider=providers[slug], upstream_model_id=model_slug,
                context_length=128_000, max_output_tokens=16_384,
                supported_parameters=OPENAI_PARAMS, region=providers[slug].regions[0],
                price=dict(MINI_PRICE))
    return description


@pytest.fixture
def policy_gateway(policy_catalog, shared_gateway, make_org_key, sandbox):
    """The shared gateway once it routes on this test's catalog."""
    probe = make_org_key()
    wait_for_models(shared_gateway, probe.plaintext, dict.fromkeys(SERVING, policy_catalog),
                    endpoints=ENDPOINTS)
    return shared_gateway


@pytest.fixture
def org_with(make_org_key):
    """`make(**org_policy) -> OrgKey`: a funded org whose policy (version 1) is `org_policy`."""
    def make(**policy):
        org_key = make_org_key()
        fund(org_key.org, 10 * 1_000_000_000)
        if policy:
            set_org_policy(org_key.org, version=1, **policy)
        return org_key
    return make


def set_org_policy(org, **fields):
    with transaction.atomic():
        OrgPolicy.objects.create(org=org, **fields)
        announce_change(org.pk)


def chat(gateway, key: str, **body):
    return httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {key}"},
                      json={"model": MINI, "messages": [{"role": "user", "content": "hi"}],
                            **body})


def reached(sandbox) -> dict[str, int]:
    return {slug: len(sandbox.control.requests(slug)) for slug in SLUGS}


ENDPOINT_FIELDS = [
    ({"provider_allow": ["sandbox-openai", "sandbox-eu"]}, "sandbox-trains",
     "org_policy.provider_allow"),
    ({"provider_deny": ["sandbox-eu"]}, "sandbox-eu", "org_policy.provider_deny"),
    ({"regions": ["eu"]}, "sandbox-openai", "org_policy.regions"),
    ({"require_zdr": True}, "sandbox-retains", "org_policy.require_zdr"),
    ({"deny_training": True}, "sandbox-trains", "org_policy.deny_training"),
]


@pytest.mark.parametrize(("policy", "excluded", "reason"), ENDPOINT_FIELDS)
def test_an_excluded_provider_is_never_reached_and_the_503_names_why(
        policy_gateway, sandbox, org_with, policy, excluded, reason):
    unrestricted = org_with()
    control = chat(policy_gateway, unrestricted.plaintext, provider={"order": [excluded]})
    assert control.status_code == 200 and reached(sandbox)[excluded] == 1  # it would serve
    sandbox.control.reset()
    org_key = org_with(**policy)

    preferred = chat(policy_gateway, org_key.plaintext, provider={"order": [excluded]})
    demanded = chat(policy_gateway, org_key.plaintext, provider={"only": [excluded]})

    assert preferred.status_code == 200, preferred.text
    counts = reached(sandbox)
    assert counts[excluded] == 0 and sum(counts.values()) == 1
    assert demanded.status_code == 503, demanded.text
    error = demanded.json()["error"]
    assert label(excluded) in error["metadata"]["excluded_by"][reason]
    assert f"{reason} excluded" in error["message"] and label(excluded) in error["message"]
    row = next(r for r in error["metadata"]["excluded"] if r["endpoint"] == label(excluded))
    assert row["reasons"] == [reason] and row["provider"] == excluded  # `only` names it


@pytest.mark.parametrize(("policy", "reason"), [
    ({"model_allow": [LLAMA]}, "org_policy.model_allow"),
    ({"model_deny": [MINI]}, "org_policy.model_deny"),
])
def test_a_denied_model_is_403_before_any_provider_and_fallback_models_serve(
        policy_gateway, sandbox, org_with, policy, reason):
    org_key = org_with(**policy)

    denied = chat(policy_gateway, org_key.plaintext)
    assert denied.status_code == 403, denied.text
    error = denied.json()["error"]
    assert error["metadata"]["reason"] == "model_not_allowed"
    assert error["metadata"]["excluded_by"] == {reason: [MINI]}
    assert f"{reason} excluded {MINI}" in error["message"]
    assert sum(reached(sandbox).values()) == 0

    fallback = chat(policy_gateway, org_key.plaintext, models=[MINI, LLAMA])
    assert fallback.status_code == 200, fallback.text
    assert fallback.json()["model"] == LLAMA


def test_fallbacks_stay_inside_the_preferred_providers(policy_gateway, sandbox, org_with):
    free = org_with()
    inside = org_with(fallbacks_outside_preferred=False)
    sandbox.control.set_fault("sandbox-retains", error_status=503)

    # Allowed to leave: the failed preferred provider falls back to another one.
    assert chat(policy_gateway, free.plaintext, provider={"order": ["sandbox-retains"]}
                ).status_code == 200
    sandbox.control.clear_requests("sandbox-retains")
    before = reached(sandbox)
    kept = chat(policy_gateway, inside.plaintext, provider={"order": ["sandbox-retains"]})
    assert kept.status_code == 502, kept.text
    after = reached(sandbox)
    assert after["sandbox-retains"] >= 1
    assert {s: after[s] - before[s] for s in SLUGS if s != "sandbox-retains"} == \
        dict.fromkeys(["sandbox-openai", "sandbox-eu", "sandbox-trains"], 0)

    nowhere = chat(policy_gateway, inside.plaintext,
                   provider={"order": ["sandbox-retains"], "ignore": ["sandbox-retains"]})
    assert nowhere.status_code == 503
    by = nowhere.json()["error"]["metadata"]["excluded_by"]
    assert set(by["org_policy.fallbacks_outside_preferred"]) == {
        label(s) for s in ["sandbox-openai", "sandbox-eu", "sandbox-trains"]}


def test_a_key_policy_narrows_and_never_widens(policy_gateway, sandbox, org_with):
    org_key = org_with(deny_training=True)
    KeyPolicy.objects.create(org=org_key.org, api_key=org_key.key, version=1,
                             allowed_providers=["sandbox-trains", "sandbox-eu"])

    served = chat(policy_gateway, org_key.plaintext, provider={"order": ["sandbox-trains"]})
    assert served.status_code == 200 and served.json()["provider"] == "Sandbox EU"
    assert reached(sandbox) == {"sandbox-openai": 0, "sandbox-eu": 1, "sandbox-trains": 0,
                                "sandbox-retains": 0}
    none_left = chat(policy_gateway, org_key.plaintext, provider={"ignore": ["sandbox-eu"]})
    assert none_left.status_code == 503
    by = none_left.json()["error"]["metadata"]["excluded_by"]
    assert by["org_policy.deny_training"] == [label("sandbox-trains")]
    assert set(by["key_policy.providers"]) == {label("sandbox-openai"),
                                               label("sandbox-retains")}


def test_key_policy_models_and_regions(policy_gateway, sandbox, org_with):
    org_key = org_with()
    KeyPolicy.objects.create(org=org_key.org, api_key=org_key.key, version=1,
                             allowed_models=[LLAMA], allowed_regions=["eu"])

    denied = chat(policy_gateway, org_key.plaintext)
    assert denied.status_code == 403
    assert denied.json()["error"]["metadata"]["excluded_by"] == {"key_policy.models": [MINI]}
    served = chat(policy_gateway, org_key.plaintext, model=LLAMA,
                  provider={"order": ["sandbox-openai"]})
    assert served.status_code == 200 and served.json()["provider"] == "Sandbox EU"
    assert reached(sandbox)["sandbox-openai"] == 0


def test_the_usage_record_keeps_the_policy_version_and_zdr(policy_gateway, org_with):
    org_key = org_with(require_zdr=True)
    set_org_policy(org_key.org, version=2, require_zdr=True, regions=["eu"])

    response = chat(policy_gateway, org_key.plaintext)
    assert response.status_code == 200 and response.json()["provider"] == "Sandbox EU"
    record = wait_usage_record(response.json()["id"])
    assert record.policy_version == 2 and record.zdr is True

    plain = org_with()
    asked = chat(policy_gateway, plain.plaintext, provider={"zdr": True})
    record = wait_usage_record(asked.json()["id"])
    assert record.policy_version is None and record.zdr is True
    record = wait_usage_record(chat(policy_gateway, plain.plaintext).json()["id"])
    assert record.policy_version is None and record.zdr is False


def _time_until_denied(gateway, org_key) -> float:
    """Change the org's policy while its key is in use; seconds until a request sees it."""
    assert chat(gateway, org_key.plaintext).status_code == 200  # the key and rules are cached
    assert chat(gateway, org_key.plaintext).status_code == 200
    set_org_policy(org_key.org, version=1, model_deny=[MINI])
    changed = time.monotonic()
    while (response := chat(gateway, org_key.plaintext)).status_code == 200:
        assert time.monotonic() - changed < 2.0, "the old policy still applies after 2 s"
        time.sleep(0.02)
    assert response.status_code == 403, response.text
    return time.monotonic() - changed


@pytest.mark.redis
def test_a_policy_change_is_pushed_through_redis(policy_gateway, org_with):
    assert _time_until_denied(policy_gateway, org_with()) < 1.0


def test_a_policy_change_lands_within_a_second_without_redis(policy_catalog, start_gateway,
                                                             make_org_key, org_with):
    gateway = start_gateway(REDIS_URL="")
    wait_for_models(gateway, make_org_key().plaintext, dict.fromkeys(SERVING, policy_catalog),
                    endpoints=ENDPOINTS)
    assert _time_until_denied(gateway, org_with()) <= 1.2


def _wait_for_window_start():
    # Fixed one-minute windows: start early in a minute so the requests share one window.
    while time.time() % 60 > 45:
        time.sleep(0.5)


def test_a_key_policy_rate_limit_wins_over_the_operator_default(policy_catalog, start_gateway,
                                                                org_with, make_org_key):
    org_key = org_with()
    KeyPolicy.objects.create(org=org_key.org, api_key=org_key.key, version=1, rpm=4)
    # The operator's override for this key says 2; the key's own policy says 4.
    gateway = start_gateway(GATEWAY_LIMIT_OVERRIDES=json.dumps(
        {f"key:{org_key.key.pk}": {"rpm": 2}}))
    wait_for_models(gateway, make_org_key().plaintext, dict.fromkeys(SERVING, policy_catalog),
                    endpoints=ENDPOINTS)
    _wait_for_window_start()

    statuses = [chat(gateway, org_key.plaintext).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    refused = chat(gateway, org_key.plaintext).json()["error"]
    assert refused["metadata"]["limit"] == 4 and refused["metadata"]["limit_scope"] == "key"
