"""`/v1/models` and `/v1/models/{author}/{slug}/endpoints` payloads: OpenRouter's schemas, exact
decimal prices, and the caller's margin applied through `caller_price_of`."""

from decimal import Decimal

from catalog import openrouter
from catalog.selectors import build_routing_snapshot, get_endpoint_health
from catalog.snapshot import HealthView
from core.money import apply_bps
from tests.openrouter_schema import errors


def _with_margin(bps):
    return lambda nanos, endpoint: nanos + apply_bps(nanos, bps)


def test_models_list_validates_against_openrouter_schema(imported_catalog):
    payload = openrouter.models_list_payload(build_routing_snapshot())

    assert errors(payload, "ModelsListResponse") == []
    assert payload["object"] == "list"
    assert payload["total_count"] == len(payload["data"]) >= 150
    ids = [m["id"] for m in payload["data"]]
    assert ids == sorted(ids) and "openai/gpt-4o-mini" in ids


def test_model_pricing_is_usd_per_token_as_exact_decimal_strings(imported_catalog):
    snapshot = build_routing_snapshot()
    model = openrouter.model_payload(snapshot.model("openai/gpt-4o-mini"))

    # Routable top provider under SANDBOX: the sandbox endpoints at OpenAI's list price.
    assert model["pricing"] == {"prompt": "0.00000015", "completion": "0.0000006",
                                "request": "0", "image": "0",
                                "input_cache_read": "0.000000075"}
    assert Decimal(model["pricing"]["prompt"]) * 10**15 == 150_000_000
    assert model["top_provider"] == {"context_length": 128000,
                                     "max_completion_tokens": 16384, "is_moderated": False}
    assert model["architecture"]["input_modalities"] == ["text", "image", "file"]
    assert {"tools", "response_format", "max_tokens"} <= set(model["supported_parameters"])


def test_caller_margin_is_applied_to_every_price(imported_catalog):
    snapshot = build_routing_snapshot()
    model = snapshot.model("anthropic/claude-sonnet-4.5")

    payload = openrouter.endpoints_listing_payload(model, _with_margin(1_000))  # +10 %

    sandbox = next(e for e in payload["data"]["endpoints"] if e["tag"] == "sandbox-anthropic")
    assert sandbox["pricing"]["prompt"] == "0.0000033"  # $3/M + 10 %
    assert sandbox["pricing"]["completion"] == "0.0000165"
    assert sandbox["pricing"]["input_cache_write"] == "0.000004125"
    assert sandbox["pricing"]["input_cache_read"] == "0.00000033"


def test_odd_margins_round_half_up_per_price_and_stay_exact(imported_catalog):
    snapshot = build_routing_snapshot()
    model = snapshot.model("openai/gpt-4o-mini")

    payload = openrouter.model_payload(model, _with_margin(333))

    # 150_000_000 * 1.0333 = 154_995_000 nanos per million tokens, exactly.
    assert payload["pricing"]["prompt"] == "0.000000154995"


def test_endpoints_listing_validates_and_marks_availability(imported_catalog):
    snapshot = build_routing_snapshot()
    model = snapshot.model("meta-llama/llama-3.3-70b-instruct")

    payload = openrouter.endpoints_listing_payload(model)

    assert errors(payload["data"], "ListEndpointsResponse") == []
    by_tag = {e["tag"]: e for e in payload["data"]["endpoints"]}
    assert set(by_tag) == {"deepinfra", "nebius", "novita", "sambanova", "sandbox-openai",
                           "sandbox-openai-b", "sandbox-eu", "sandbox-trains",
                           "sandbox-retains"}
    assert by_tag["sandbox-openai"]["status"] == 0 and by_tag["sandbox-openai"]["available"]
    assert by_tag["sambanova"]["status"] == -1 and by_tag["sambanova"]["available"] is False
    assert by_tag["nebius"]["pricing"]["prompt"] == "0.00000013"
    assert by_tag["nebius"]["data_policy"] == {"retention_days": None,
                                               "trains_on_data": False, "zdr": False}
    assert by_tag["deepinfra"]["uptime_last_1d"] is None  # not measured yet


def test_measured_health_shows_as_uptime_latency_and_throughput(imported_catalog):
    snapshot = build_routing_snapshot()
    model = snapshot.model("google/gemini-2.5-flash")
    endpoint = next(e for e in model.endpoints if e.provider.slug == "sandbox-gemini")
    health = {endpoint.id: {
        "30m": HealthView(window="30m", sample_count=40, p50_latency_ms=210, p75_latency_ms=260,
                          p90_latency_ms=300, p99_latency_ms=900, p50_tokens_per_s=80,
                          p75_tokens_per_s=70, p90_tokens_per_s=55, p99_tokens_per_s=20,
                          uptime_bps=9_750, error_rate_bps=250),
        "1h": HealthView(window="1h", sample_count=90, p50_latency_ms=999, uptime_bps=5_000),
        "5m": HealthView(window="5m", sample_count=0),
    }}

    payload = openrouter.endpoints_listing_payload(model, health=health)

    assert errors(payload["data"], "ListEndpointsResponse") == []
    entry = next(e for e in payload["data"]["endpoints"] if e["tag"] == "sandbox-gemini")
    assert entry["uptime_last_30m"] == 97.5
    assert entry["uptime_last_5m"] is None
    assert entry["latency_last_30m"] == {"p50": 210, "p75": 260, "p90": 300, "p99": 900}
    assert entry["throughput_last_30m"] == {"p50": 80, "p75": 70, "p90": 55, "p99": 20}
    other = next(e for e in payload["data"]["endpoints"] if e["tag"] != "sandbox-gemini")
    assert other["throughput_last_30m"] is None  # not measured: null, as before
    assert get_endpoint_health([endpoint.id]) == {}  # nothing stored: the view came from args
