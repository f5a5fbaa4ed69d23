"""`POST /api/v1/routing/explain/` and the route explainer page, on the committed catalog.

The committed catalog's sandbox providers differ where policies bite (sandbox-eu runs in the
EU, sandbox-trains trains on prompts, sandbox-retains keeps them 30 days), so on a fresh
`make run` every org policy field excludes something; these tests show each one does.
"""

from __future__ import annotations

import json

import pytest

from catalog.importer import FIXTURE_PATH, import_catalog
from compliance.models import KeyPolicy, OrgPolicy
from marketplace.tenancy.models import Role
from tests.tenancy.factories import api_key, key_client, member, session_client

URL = "/api/v1/routing/explain/"
MINI = "openai/gpt-4o-mini"
LLAMA = "meta-llama/llama-3.3-70b-instruct"
SANDBOX_MINI = {"sandbox-openai", "sandbox-openai-b", "sandbox-eu", "sandbox-trains",
                "sandbox-retains"}


@pytest.fixture
def catalog(db, settings):
    settings.SANDBOX = True
    import_catalog(json.loads(FIXTURE_PATH.read_text()), sandbox=True)


@pytest.fixture
def developer(catalog):
    return member(Role.DEVELOPER)


def post(client, body):
    return client.post(URL, body, format="json")


def reasons_by_provider(body):
    return {x["provider"]: set(x["reasons"]) for x in body["excluded"]}


def test_default_weighted_draw_chances_sum_to_one(developer):
    response = post(session_client(developer), {"model": MINI})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == MINI and body["status"] == 200 and body["error"] is None
    assert {c["provider"] for c in body["candidates"]} == SANDBOX_MINI
    assert {c["rule"] for c in body["candidates"]} == {"weighted"}
    assert sum(c["weight"] for c in body["candidates"]) == pytest.approx(1.0)
    # The real provider is browsable only (no credentials under SANDBOX=1).
    assert reasons_by_provider(body)["openai"] == {"provider_unavailable"}


@pytest.mark.parametrize(("policy", "excluded", "reason"), [
    ({"provider_allow": ["sandbox-openai"]},
     SANDBOX_MINI - {"sandbox-openai"}, "org_policy.provider_allow"),
    ({"provider_deny": ["sandbox-trains"]}, {"sandbox-trains"}, "org_policy.provider_deny"),
    ({"regions": ["eu"]}, SANDBOX_MINI - {"sandbox-eu"}, "org_policy.regions"),
    ({"require_zdr": True}, {"sandbox-trains", "sandbox-retains"}, "org_policy.require_zdr"),
    ({"deny_training": True}, {"sandbox-trains"}, "org_policy.deny_training"),
])
def test_each_org_policy_field_excludes_a_sandbox_provider(developer, policy, excluded, reason):
    OrgPolicy.objects.create(org=developer.org, version=1, **policy)

    body = post(session_client(developer), {"model": MINI}).json()

    assert {c["provider"] for c in body["candidates"]} == SANDBOX_MINI - excluded
    by_provider = reasons_by_provider(body)
    for slug in excluded:
        assert reason in by_provider[slug], slug


def test_model_lists_deny_with_403_status_and_fallbacks_stay_inside_preferences(developer):
    OrgPolicy.objects.create(org=developer.org, version=1, model_deny=[MINI],
                             fallbacks_outside_preferred=False)
    client = session_client(developer)

    denied = post(client, {"model": MINI}).json()
    assert denied["status"] == 403 and denied["error"]["code"] == "model_not_allowed"
    assert denied["candidates"] == []
    assert all(x["reasons"][0] == "org_policy.model_deny" for x in denied["excluded"])

    inside = post(client, {"model": LLAMA, "provider": {"order": ["sandbox-eu"]}}).json()
    assert [c["provider"] for c in inside["candidates"]] == ["sandbox-eu"]
    assert inside["candidates"][0]["rule"] == "order"
    assert "org_policy.fallbacks_outside_preferred" in \
        reasons_by_provider(inside)["sandbox-openai"]


def test_every_reason_is_listed_and_a_key_policy_narrows(developer):
    OrgPolicy.objects.create(org=developer.org, version=2, require_zdr=True)
    key, _ = api_key(developer.org)
    KeyPolicy.objects.create(org=developer.org, api_key=key, version=1,
                             allowed_regions=["eu"])

    body = post(session_client(developer), {
        "model": MINI, "key_id": key.pk, "provider": {"ignore": ["sandbox-openai-b"]}}).json()

    assert [c["provider"] for c in body["candidates"]] == ["sandbox-eu"]
    by_provider = reasons_by_provider(body)
    assert by_provider["sandbox-trains"] == {"org_policy.require_zdr", "key_policy.regions"}
    assert by_provider["sandbox-openai-b"] == {"provider.ignore", "key_policy.regions"}
    # Without the key, only the org's policy applies.
    no_key = post(session_client(developer), {"model": MINI}).json()
    assert {c["provider"] for c in no_key["candidates"]} == {"sandbox-openai",
                                                             "sandbox-openai-b", "sandbox-eu"}


def test_sort_gives_positions_and_keys(developer):
    body = post(session_client(developer), {"model": LLAMA,
                                            "provider": {"sort": "price"}}).json()
    keys = [c["sort_key"] for c in body["candidates"]]
    assert [c["position"] for c in body["candidates"]] == list(range(1, len(keys) + 1))
    assert keys == sorted(keys)
    assert keys[0] == body["candidates"][0]["prompt_nanos_per_m"] + \
        body["candidates"][0]["completion_nanos_per_m"]


def test_another_orgs_key_is_404_and_a_management_key_may_ask(developer):
    other = member(Role.OWNER)
    their_key, _ = api_key(other.org)
    assert post(session_client(developer), {"model": MINI, "key_id": their_key.pk}
                ).status_code == 404
    _, management = api_key(developer.org, scope="management")
    response = post(key_client(management), {"model": MINI})
    assert response.status_code == 200 and response.json()["candidates"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "model"),
    ({"model": ""}, "model"),
    ({"model": "nobody/nothing"}, "model"),
    ({"model": MINI, "provider": "sandbox-eu"}, "provider"),
    ({"model": MINI, "provider": {"sort": "fastest"}}, "provider.sort"),
    ({"model": MINI, "provider": {"order": "sandbox-eu"}}, "provider.order"),
    ({"model": MINI, "key_id": "mine"}, "key_id"),
])
def test_bad_bodies_are_400_naming_the_field(developer, body, field):
    response = post(session_client(developer), body)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_viewers_and_inference_keys_may_not(catalog):
    viewer = member(Role.VIEWER)
    assert post(session_client(viewer), {"model": MINI}).status_code == 403
    _, inference = api_key(viewer.org)
    assert post(key_client(inference), {"model": MINI}).status_code == 403


def test_the_page_shows_candidates_and_reasons(developer, client):
    OrgPolicy.objects.create(org=developer.org, version=1, regions=["eu"])
    client.force_login(developer.user)

    empty = client.get("/routing/explain/")
    assert empty.status_code == 200 and 'id="explain-form"' in empty.content.decode()
    assert 'href="/routing/explain/"' in empty.content.decode()  # the nav links to it

    response = client.get("/routing/explain/", {"model": MINI,
                                                "provider": '{"sort": "price"}'})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<tr data-provider="sandbox-eu">' in html
    assert "org_policy.regions" in html and "sort:price" in html

    bad = client.get("/routing/explain/", {"model": MINI, "provider": "{not json"})
    assert bad.status_code == 400 and "Enter a JSON object" in bad.content.decode()
    wrong = client.get("/routing/explain/", {"model": MINI, "provider": '{"sort": 1}'})
    assert wrong.status_code == 400 and "provider.sort" in wrong.content.decode()
