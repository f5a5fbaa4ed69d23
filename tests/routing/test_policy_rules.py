"""Org and key policies in select_candidates: each field excludes what it should and says so."""

import random

import pytest

from core.compliance_rules import CallerRules, KeyRules, OrgRules
from core.errors import ModelNotAllowed, NoEndpointAvailable
from routing.health import Health
from routing.policy import endpoint_label, select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

MODEL = "acme/chat"
OTHER = "acme/other"


def world():
    """One endpoint per provider trait a policy can bite on, all serving MODEL."""
    home = endpoint(MODEL, provider("home", regions=("local",), zdr=True, retention_days=0))
    eu = endpoint(MODEL, provider("eu", regions=("eu",), zdr=True, retention_days=0))
    trains = endpoint(MODEL, provider("trains", regions=("local",), trains_on_data=True,
                                      retention_days=30))
    retains = endpoint(MODEL, provider("retains", regions=("local",), retention_days=30))
    other = endpoint(OTHER, provider("other", regions=("local",), zdr=True))
    return snapshot(home, eu, trains, retains, other), home, eu, trains, retains, other


def served(snap, request, rules):
    selection = select_candidates(snap, request, health=Health(), rng=random.Random(0),
                                  rules=rules)
    return {e.provider.slug for e in selection.ranked}, dict(selection.excluded)


def org(**fields):
    return CallerRules(org=OrgRules(version=3, **fields))


@pytest.mark.parametrize(("rules", "left", "reason"), [
    (org(provider_allow=frozenset({"home", "eu"})), {"home", "eu"},
     "org_policy.provider_allow"),
    (org(provider_deny=frozenset({"trains"})), {"home", "eu", "retains"},
     "org_policy.provider_deny"),
    (org(regions=frozenset({"eu"})), {"eu"}, "org_policy.regions"),
    (org(require_zdr=True), {"home", "eu"}, "org_policy.require_zdr"),
    (org(deny_training=True), {"home", "eu", "retains"}, "org_policy.deny_training"),
    (CallerRules(key=KeyRules(providers=frozenset({"eu", "retains"}))), {"eu", "retains"},
     "key_policy.providers"),
    (CallerRules(key=KeyRules(regions=frozenset({"local"}))), {"home", "trains", "retains"},
     "key_policy.regions"),
])
def test_each_endpoint_field_excludes_the_others_naming_itself(rules, left, reason):
    snap, *endpoints = world()
    names, excluded = served(snap, chat(MODEL), rules)
    assert names == left
    gone = {endpoint_label(e) for e in endpoints[:4] if e.provider.slug not in left}
    assert excluded == dict.fromkeys(gone, reason)


def test_no_rules_and_empty_lists_restrict_nothing():
    snap, *_ = world()
    everyone = {"home", "eu", "trains", "retains"}
    assert served(snap, chat(MODEL), CallerRules())[0] == everyone
    empty = CallerRules(org=OrgRules(provider_allow=frozenset(), regions=frozenset(),
                                     model_allow=frozenset()),
                        key=KeyRules(models=frozenset(), providers=frozenset()))
    assert served(snap, chat(MODEL), empty)[0] == everyone


def test_a_provider_wide_endpoint_must_run_only_in_allowed_regions():
    both = endpoint(MODEL, provider("both", regions=("eu", "us")))
    pinned = endpoint(MODEL, provider("pinned", regions=("eu", "us")), region="eu")
    nowhere = endpoint(MODEL, provider("nowhere"))
    names, excluded = served(snapshot(both, pinned, nowhere), chat(MODEL),
                             org(regions=frozenset({"eu"})))
    assert names == {"pinned"}
    assert excluded == {endpoint_label(both): "org_policy.regions",
                        endpoint_label(nowhere): "org_policy.regions"}


@pytest.mark.parametrize(("rules", "reason"), [
    (org(model_allow=frozenset({OTHER})), "org_policy.model_allow"),
    (org(model_deny=frozenset({MODEL})), "org_policy.model_deny"),
    (CallerRules(key=KeyRules(models=frozenset({OTHER}))), "key_policy.models"),
])
def test_a_denied_model_is_403_naming_the_constraint_and_fallback_models_still_serve(
        rules, reason):
    snap, *_ = world()
    with pytest.raises(ModelNotAllowed) as caught:
        served(snap, chat(MODEL), rules)
    error = caught.value
    assert error.status == 403 and error.code == "model_not_allowed"
    assert error.metadata == {"excluded_by": {reason: [MODEL]}}
    assert f"{reason} excluded {MODEL}" in error.message
    # With a fallback the policy allows, the request goes there instead.
    names, excluded = served(snap, chat(MODEL, models=[OTHER]), rules)
    assert names == {"other"} and excluded == {MODEL: reason}


def test_503_names_every_constraint_and_every_endpoint_it_excluded():
    snap, home, eu, trains, retains, _ = world()
    rules = CallerRules(org=OrgRules(regions=frozenset({"local"}), require_zdr=True),
                        key=KeyRules(providers=frozenset({"trains", "eu"})))
    with pytest.raises(NoEndpointAvailable) as caught:
        served(snap, chat(MODEL), rules)
    error = caught.value
    assert error.status == 503
    by = error.metadata["excluded_by"]
    assert by == {
        "org_policy.regions": [endpoint_label(eu)],
        "org_policy.require_zdr": [endpoint_label(trains), endpoint_label(retains)],
        "key_policy.providers": [endpoint_label(home), endpoint_label(retains)],
    }
    rows = {row["endpoint"]: row for row in error.metadata["excluded"]}
    assert rows[endpoint_label(retains)]["reasons"] == ["org_policy.require_zdr",
                                                        "key_policy.providers"]
    assert rows[endpoint_label(retains)]["provider"] == "retains"
    for reason, labels in by.items():
        assert f"{reason} excluded {', '.join(labels)}" in error.message


def test_key_policy_never_widens_the_org_policy():
    snap, *_ = world()
    rules = CallerRules(org=OrgRules(provider_deny=frozenset({"trains"})),
                        key=KeyRules(providers=frozenset({"trains", "home"})))
    names, excluded = served(snap, chat(MODEL), rules)
    assert names == {"home"}
    assert excluded[endpoint_label(snap.model(MODEL).endpoints[2])] == \
        "org_policy.provider_deny"


def test_request_preferences_narrow_further_and_never_widen():
    snap, *_ = world()
    rules = org(require_zdr=True)
    assert served(snap, chat(MODEL, prefs=ProviderPrefs(ignore=["home"])), rules)[0] == {"eu"}
    # Asking for a provider the policy excludes does not bring it back.
    with pytest.raises(NoEndpointAvailable) as caught:
        served(snap, chat(MODEL, prefs=ProviderPrefs(only=["retains"])), rules)
    assert set(caught.value.metadata["excluded_by"]) == {"provider.only",
                                                         "org_policy.require_zdr"}


def test_fallbacks_may_stay_inside_the_preferred_providers():
    snap, home, eu, trains, retains, _ = world()
    keep_inside = org(fallbacks_outside_preferred=False)
    order = chat(MODEL, prefs=ProviderPrefs(order=["trains", "eu"]))
    selection = select_candidates(snap, order, health=Health(), rng=random.Random(0),
                                  rules=keep_inside)
    assert [e.provider.slug for e in selection.ranked] == ["trains", "eu"]
    assert dict(selection.excluded) == {
        endpoint_label(home): "org_policy.fallbacks_outside_preferred",
        endpoint_label(retains): "org_policy.fallbacks_outside_preferred"}
    # Allowed by default: the others follow as fallbacks.
    assert served(snap, order, org())[0] == {"home", "eu", "trains", "retains"}
    # Without preferred providers the rule has nothing to keep the request inside.
    assert served(snap, chat(MODEL), keep_inside)[0] == {"home", "eu", "trains", "retains"}
