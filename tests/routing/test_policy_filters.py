"""select_candidates: each constraint excludes what it should, and says so."""

import random

import pytest

from core.errors import NoEndpointAvailable, NotFound
from core.money import usd_to_nanos
from routing.health import Health
from routing.policy import endpoint_label, select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

MODEL = "acme/chat"


def ranked_providers(snap, request, health=None, **kwargs):
    selection = select_candidates(snap, request, health=health or Health(),
                                  rng=random.Random(0), **kwargs)
    return sorted(e.provider.slug for e in selection.ranked), dict(selection.excluded)


def test_status_breaker_context_output_and_modality_filters():
    health = Health()
    ok = endpoint(MODEL, provider("ok"), input_modalities=frozenset({"text", "image"}))
    off = endpoint(MODEL, provider("off"), enabled=False)
    gone = endpoint(MODEL, provider("gone", available=False))
    broken = endpoint(MODEL, provider("broken"))
    small = endpoint(MODEL, provider("small"), context_length=1_000)
    short = endpoint(MODEL, provider("short"), max_output_tokens=100)
    text_only = endpoint(MODEL, provider("textonly"))
    for _ in range(5):
        health.record_failure(broken.id)
    snap = snapshot(ok, off, gone, broken, small, short, text_only)
    # 3,600 bytes is at least 900 tokens; with 200 output tokens that overflows 1,000.
    request = chat(MODEL, prompt_upper_bytes=3_600, max_tokens=200,
                   input_modalities=frozenset({"text", "image"}))
    names, excluded = ranked_providers(snap, request, health)
    assert names == ["ok"]
    assert excluded == {
        endpoint_label(off): "endpoint_disabled",
        endpoint_label(gone): "provider_unavailable",
        endpoint_label(broken): "circuit_open",
        endpoint_label(small): "context_length",
        endpoint_label(short): "max_output_tokens",
        endpoint_label(text_only): "input_modalities",
    }


def test_context_check_uses_the_lower_bound_so_borderline_prompts_stay():
    small = endpoint(MODEL, provider("small"), context_length=1_000)
    # 3,200 bytes may be as few as 800 tokens: 800 + 200 fits exactly, so it stays.
    names, _ = ranked_providers(snapshot(small), chat(MODEL, prompt_upper_bytes=3_200,
                                                      max_tokens=200))
    assert names == ["small"]


def test_require_parameters_only_when_asked():
    tools = endpoint(MODEL, provider("tools"),
                     supported_parameters=frozenset({"tools", "temperature"}))
    plain = endpoint(MODEL, provider("plain"), supported_parameters=frozenset({"temperature"}))
    snap = snapshot(tools, plain)
    used = frozenset({"tools", "temperature"})
    assert ranked_providers(snap, chat(MODEL, used_parameters=used))[0] == ["plain", "tools"]
    names, excluded = ranked_providers(
        snap, chat(MODEL, used_parameters=used, prefs=ProviderPrefs(require_parameters=True)))
    assert names == ["tools"]
    assert excluded == {endpoint_label(plain): "provider.require_parameters"}


def test_only_ignore_quantizations():
    a = endpoint(MODEL, provider("alpha", name="Alpha Cloud"), quantization="fp8")
    b = endpoint(MODEL, provider("beta"), quantization="bf16")
    c = endpoint(MODEL, provider("gamma"))
    snap = snapshot(a, b, c)
    only = ProviderPrefs(only=["Alpha Cloud", "beta"])
    assert ranked_providers(snap, chat(MODEL, prefs=only))[0] == ["alpha", "beta"]
    assert ranked_providers(snap, chat(MODEL, prefs=ProviderPrefs(ignore=["BETA"])))[0] == \
        ["alpha", "gamma"]
    names, excluded = ranked_providers(snap, chat(MODEL, prefs=ProviderPrefs(
        quantizations=["fp8", "unknown"])))
    assert names == ["alpha", "gamma"]
    assert excluded == {endpoint_label(b): "provider.quantizations"}


def test_data_collection_deny_and_zdr():
    trains = endpoint(MODEL, provider("trains", trains_on_data=True, retention_days=30))
    unknown = endpoint(MODEL, provider("unknown"))  # retention not documented
    keeps = endpoint(MODEL, provider("keeps", retention_days=30))
    zero = endpoint(MODEL, provider("zero", retention_days=0))
    zdr = endpoint(MODEL, provider("zdr", zdr=True, retention_days=0))
    snap = snapshot(trains, unknown, keeps, zero, zdr)
    names, excluded = ranked_providers(snap, chat(MODEL, prefs=ProviderPrefs(
        data_collection="deny")))
    assert names == ["keeps", "zdr", "zero"]
    assert excluded == {endpoint_label(trains): "provider.data_collection",
                        endpoint_label(unknown): "provider.data_collection"}
    assert ranked_providers(snap, chat(MODEL, prefs=ProviderPrefs(zdr=True)))[0] == \
        ["zdr", "zero"]


def test_max_price_compares_the_callers_price_margin_included():
    cheap = endpoint(MODEL, provider("cheap"), input_usd_m="1", output_usd_m="2")
    dear = endpoint(MODEL, provider("dear"), input_usd_m="3", output_usd_m="2")
    snap = snapshot(cheap, dear)
    prefs = ProviderPrefs(max_price={"prompt": usd_to_nanos("1.05"),
                                     "completion": usd_to_nanos(4)})
    names, excluded = ranked_providers(snap, chat(MODEL, prefs=prefs))
    assert names == ["cheap"]
    assert excluded == {endpoint_label(dear): "provider.max_price.prompt"}

    def with_margin(e):  # a 10% margin lifts cheap's $1.00 prompt price to $1.10
        return (e.price.input_nanos_per_m * 11 // 10, e.price.output_nanos_per_m * 11 // 10)
    with pytest.raises(NoEndpointAvailable):
        ranked_providers(snap, chat(MODEL, prefs=prefs), caller_prices=with_margin)
    completion_cap = chat(MODEL, prefs=ProviderPrefs(max_price={"completion": usd_to_nanos("2.1")}))
    assert ranked_providers(snap, completion_cap)[0] == ["cheap", "dear"]
    with pytest.raises(NoEndpointAvailable) as caught:  # $2.20 with the margin
        ranked_providers(snap, completion_cap, caller_prices=with_margin)
    assert {x["reason"] for x in caught.value.metadata["excluded"]} == \
        {"provider.max_price.completion"}


def test_impossible_constraints_give_503_naming_each_exclusion():
    a = endpoint(MODEL, provider("a"), quantization="fp8")
    b = endpoint(MODEL, provider("b", trains_on_data=True, retention_days=1))
    request = chat(MODEL, prefs=ProviderPrefs(ignore=["a"], data_collection="deny"))
    with pytest.raises(NoEndpointAvailable) as caught:
        select_candidates(snapshot(a, b), request, health=Health(), rng=random.Random(0))
    error = caught.value
    assert error.status == 503
    # Every reason per endpoint (a is also unknown about retention), and each constraint with
    # what it excluded.
    assert error.metadata == {
        "excluded": [
            {"endpoint": "acme/chat@a", "provider": "a", "reason": "provider.ignore",
             "reasons": ["provider.ignore", "provider.data_collection"]},
            {"endpoint": "acme/chat@b", "provider": "b", "reason": "provider.data_collection",
             "reasons": ["provider.data_collection"]},
        ],
        "excluded_by": {"provider.ignore": ["acme/chat@a"],
                        "provider.data_collection": ["acme/chat@a", "acme/chat@b"]},
    }
    assert "provider.data_collection excluded acme/chat@a, acme/chat@b" in error.message
    assert "provider.ignore excluded acme/chat@a" in error.message


def test_fallback_models_follow_in_order_and_unknown_models():
    first = endpoint(MODEL, provider("p1"))
    second = endpoint("acme/backup", provider("p2"))
    request = chat(MODEL, models=["acme/nope", "acme/backup"])
    selection = select_candidates(snapshot(first, second), request, health=Health(),
                                  rng=random.Random(0))
    assert [e.id for e in selection.ranked] == [first.id, second.id]
    assert selection.excluded == [("acme/nope", "unknown_model")]
    with pytest.raises(NotFound):
        select_candidates(snapshot(first), chat("acme/missing"), health=Health(),
                          rng=random.Random(0))
