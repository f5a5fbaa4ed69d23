"""routing.explain: the router's own filters and ranking, described instead of drawn."""

import random
from collections import Counter

import pytest

from core.compliance_rules import CallerRules, KeyRules, OrgRules
from core.errors import NotFound
from routing.explain import NeutralHealth, explain
from routing.health import Health
from routing.policy import endpoint_label, select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

MODEL = "acme/chat"


def three():
    # Blended prices 1, 2, 4 $/M: weights 1/p^2 are 16 : 4 : 1.
    return (endpoint(MODEL, provider("cheap", regions=("eu",), zdr=True),
                     input_usd_m="0.5", output_usd_m="0.5"),
            endpoint(MODEL, provider("mid", regions=("us",), retention_days=30),
                     input_usd_m="1", output_usd_m="1"),
            endpoint(MODEL, provider("dear", regions=("us",), trains_on_data=True),
                     input_usd_m="2", output_usd_m="2"))


def test_weighted_draw_gives_each_candidate_its_chance_of_being_first():
    snap = snapshot(*three())
    result = explain(snap, chat(MODEL), rules=CallerRules(), health=Health())
    assert result.status == 200 and result.excluded == []
    weights = {c.endpoint.provider.slug: c.weight for c in result.candidates}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights == pytest.approx({"cheap": 16 / 21, "mid": 4 / 21, "dear": 1 / 21})
    assert {c.rule for c in result.candidates} == {"weighted"}
    # The router's own draws agree.
    rng, runs = random.Random(5), 4000
    firsts = Counter(select_candidates(snap, chat(MODEL), health=Health(), rng=rng)
                     .ranked[0].provider.slug for _ in range(runs))
    for slug, weight in weights.items():
        assert abs(firsts[slug] / runs - weight) < 0.03


def test_every_reason_of_every_excluded_endpoint_is_listed():
    cheap, mid, dear = three()
    rules = CallerRules(org=OrgRules(regions=frozenset({"eu"}), require_zdr=True,
                                     deny_training=True),
                        key=KeyRules(providers=frozenset({"cheap", "dear"})))
    request = chat(MODEL, prefs=ProviderPrefs(ignore=["dear"]))
    result = explain(snapshot(cheap, mid, dear), request, rules=rules, health=Health())
    assert [c.endpoint.id for c in result.candidates] == [cheap.id]
    assert {(x.endpoint, x.provider): x.reasons for x in result.excluded} == {
        (endpoint_label(mid), "mid"): ("org_policy.regions", "org_policy.require_zdr",
                                       "key_policy.providers"),
        (endpoint_label(dear), "dear"): ("provider.ignore", "org_policy.regions",
                                         "org_policy.require_zdr",
                                         "org_policy.deny_training"),
    }


def test_order_and_sort_give_positions_and_keys_as_the_router_ranks():
    cheap, mid, dear = three()
    snap = snapshot(cheap, mid, dear)
    request = chat(MODEL, prefs=ProviderPrefs(order=["dear"], sort="price"))
    result = explain(snap, request, rules=CallerRules(), health=Health())
    rows = [(c.endpoint.provider.slug, c.tier, c.rule, c.position, c.sort_key)
            for c in result.candidates]
    assert rows == [("dear", 0, "order", 1, None),
                    ("cheap", 1, "sort:price", 1, 1_000_000_000),
                    ("mid", 1, "sort:price", 2, 2_000_000_000)]
    ranked = select_candidates(snap, request, health=Health(), rng=random.Random(0)).ranked
    assert [e.id for e in ranked] == [c.endpoint.id for c in result.candidates]


def test_only_the_ordered_providers_when_fallbacks_are_off():
    cheap, mid, dear = three()
    request = chat(MODEL, prefs=ProviderPrefs(order=["mid"], allow_fallbacks=False))
    result = explain(snapshot(cheap, mid, dear), request, rules=CallerRules(),
                     health=Health())
    assert [c.endpoint.id for c in result.candidates] == [mid.id]
    assert {x.provider: x.reasons for x in result.excluded} == {
        "cheap": ("provider.allow_fallbacks",), "dear": ("provider.allow_fallbacks",)}


def test_slow_endpoints_form_a_later_tier_with_their_own_draw():
    cheap, mid, dear = three()
    health = Health()
    health.record_success(cheap.id, latency_ms=5000, ttft_ms=4000)  # 4 s to the first token
    request = chat(MODEL, prefs=ProviderPrefs(preferred_max_latency_s=1.0))
    result = explain(snapshot(cheap, mid, dear), request, rules=CallerRules(), health=health)
    rows = {c.endpoint.provider.slug: (c.tier, c.slow, c.weight) for c in result.candidates}
    assert rows["cheap"] == (1, True, 1.0)
    assert rows["mid"][:2] == (0, False) and rows["mid"][2] == pytest.approx(4 / 5)


def test_denied_models_and_impossible_requests_explain_the_status():
    snap = snapshot(*three())
    denied = explain(snap, chat(MODEL), health=Health(),
                     rules=CallerRules(org=OrgRules(model_deny=frozenset({MODEL}))))
    assert denied.status == 403 and denied.candidates == []
    assert {x.reasons[0] for x in denied.excluded} == {"org_policy.model_deny"}
    none_left = explain(snap, chat(MODEL, prefs=ProviderPrefs(only=["nobody"])),
                        rules=CallerRules(), health=Health())
    assert none_left.status == 503 and len(none_left.excluded) == 3
    assert none_left.error is not None and "provider.only" in none_left.error.message
    with pytest.raises(NotFound):
        explain(snap, chat("acme/missing"), rules=CallerRules(), health=Health())


def test_neutral_health_uses_measured_figures_for_sorts():
    cheap, mid, dear = three()
    health = NeutralHealth({mid.id: (0.2, 90.0), dear.id: (0.1, 40.0)})
    request = chat(MODEL, prefs=ProviderPrefs(sort="throughput"))
    result = explain(snapshot(cheap, mid, dear), request, rules=CallerRules(), health=health)
    assert [(c.endpoint.provider.slug, c.sort_key) for c in result.candidates] == [
        ("mid", 90.0), ("dear", 40.0), ("cheap", None)]
