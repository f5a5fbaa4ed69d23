"""select_candidates ranking: order, sort, OpenRouter's weighted default, preferred_*."""

import random
from collections import Counter

from routing.health import Health
from routing.policy import select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

MODEL = "acme/chat"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def order_of(snap, request, health=None, seed=1):
    selection = select_candidates(snap, request, health=health or Health(),
                                  rng=random.Random(seed))
    return [e.provider.slug for e in selection.ranked]


def three():
    # Blended prices (input + output, $/M): 1, 2, 4, so weights 1/p^2 are 16 : 4 : 1.
    return (endpoint(MODEL, provider("cheap"), input_usd_m="0.5", output_usd_m="0.5"),
            endpoint(MODEL, provider("mid"), input_usd_m="1", output_usd_m="1"),
            endpoint(MODEL, provider("dear"), input_usd_m="2", output_usd_m="2"))


def test_default_is_weighted_by_inverse_square_price():
    snap = snapshot(*three())
    rng = random.Random(42)
    firsts = Counter()
    runs = 6000
    for _ in range(runs):
        selection = select_candidates(snap, chat(MODEL), health=Health(), rng=rng)
        firsts[selection.ranked[0].provider.slug] += 1
        assert len(selection.ranked) == 3
    expected = {"cheap": 16 / 21, "mid": 4 / 21, "dear": 1 / 21}
    for slug, share in expected.items():
        assert abs(firsts[slug] / runs - share) < 0.02, (slug, firsts)


def test_same_seed_same_order_and_recent_outage_goes_last():
    clock = Clock()
    health = Health(clock=clock, outage_window_s=30)
    cheap, mid, dear = three()
    snap = snapshot(cheap, mid, dear)
    assert order_of(snap, chat(MODEL), seed=7) == order_of(snap, chat(MODEL), seed=7)
    health.record_failure(cheap.id)  # one failure: an outage, though the breaker stays closed
    for seed in range(20):
        assert order_of(snap, chat(MODEL), health, seed)[-1] == "cheap"
    clock.now += 31  # the outage is no longer recent
    assert Counter(order_of(snap, chat(MODEL), health, s)[0] for s in range(50))["cheap"] > 25


def test_sort_by_price_throughput_latency():
    cheap, mid, dear = three()
    snap = snapshot(cheap, mid, dear)
    health = Health()
    # latency 1 s / 0.2 s / unmeasured; throughput (tokens after first) 50 / 500 / unmeasured
    health.record_success(cheap.id, latency_ms=3000, ttft_ms=1000, completion_tokens=100)
    health.record_success(mid.id, latency_ms=400, ttft_ms=200, completion_tokens=100)
    assert order_of(snap, chat(MODEL, prefs=ProviderPrefs(sort="price")), health) == \
        ["cheap", "mid", "dear"]
    assert order_of(snap, chat(MODEL, prefs=ProviderPrefs(sort="throughput")), health) == \
        ["mid", "cheap", "dear"]
    assert order_of(snap, chat(MODEL, prefs=ProviderPrefs(sort="latency")), health) == \
        ["mid", "cheap", "dear"]


def test_order_first_then_the_rest_unless_fallbacks_are_off():
    cheap, mid, dear = three()
    snap = snapshot(cheap, mid, dear)
    ordered = order_of(snap, chat(MODEL, prefs=ProviderPrefs(order=["dear", "mid"])))
    assert ordered == ["dear", "mid", "cheap"]
    selection = select_candidates(
        snap, chat(MODEL, prefs=ProviderPrefs(order=["dear"], allow_fallbacks=False)),
        health=Health(), rng=random.Random(0))
    assert [e.provider.slug for e in selection.ranked] == ["dear"]
    assert sorted(reason for _, reason in selection.excluded) == \
        ["provider.allow_fallbacks"] * 2


def test_no_fallbacks_without_order_keeps_only_the_first_choice():
    snap = snapshot(*three())
    request = chat(MODEL, prefs=ProviderPrefs(sort="price", allow_fallbacks=False))
    assert order_of(snap, request) == ["cheap"]


def test_preferred_thresholds_move_slow_endpoints_to_the_end():
    cheap, mid, dear = three()
    snap = snapshot(cheap, mid, dear)
    health = Health()
    health.record_success(cheap.id, latency_ms=5000, ttft_ms=3000, completion_tokens=40)
    health.record_success(mid.id, latency_ms=600, ttft_ms=100, completion_tokens=500)
    by_price = ProviderPrefs(sort="price", preferred_max_latency_s=1.0)
    assert order_of(snap, chat(MODEL, prefs=by_price), health) == ["mid", "dear", "cheap"]
    by_tps = ProviderPrefs(sort="price", preferred_min_throughput=100.0)
    assert order_of(snap, chat(MODEL, prefs=by_tps), health) == ["mid", "dear", "cheap"]
    # Not dropped: the slow endpoint is still there, last.
    for seed in range(10):
        default = ProviderPrefs(preferred_max_latency_s=1.0)
        assert order_of(snap, chat(MODEL, prefs=default), health, seed)[-1] == "cheap"


def test_each_model_is_ranked_before_the_next_fallback():
    cheap, mid, dear = three()
    backup = endpoint("acme/backup", provider("bk"), input_usd_m="0.01", output_usd_m="0")
    snap = snapshot(cheap, mid, dear, backup)
    for seed in range(10):
        ranked = order_of(snap, chat(MODEL, models=["acme/backup"]), seed=seed)
        assert ranked[-1] == "bk" and len(ranked) == 4
