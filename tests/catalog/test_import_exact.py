"""The committed fixture and its import: every price is the source's decimal, exactly.

The check does its own arithmetic from the source strings kept in the fixture (`source_usd`),
independently of the builder's converter: nanos == Decimal(source) x 10^15 (per million
tokens) or x 10^9 (per request / image), except the values listed in the header as rounded,
which must carry float noise and be rounded half up.
"""

from decimal import ROUND_HALF_UP, Decimal

from catalog.models import Endpoint, Model, Price, Provider

SCALES = {
    "input_nanos_per_m": 10**15, "output_nanos_per_m": 10**15,
    "cache_read_nanos_per_m": 10**15, "cache_write_nanos_per_m": 10**15,
    "reasoning_nanos_per_m": 10**15, "request_nanos": 10**9, "image_nanos": 10**9,
}


def test_every_imported_price_is_the_source_decimal_exactly_or_a_listed_rounding(
        imported_catalog):
    fixture = imported_catalog
    rounded = {(r["source_value"], r["nanos"]) for r in fixture["header"]["rounded"]}
    rows = {(e["model"], e["provider"]): e for e in fixture["endpoints"]}
    rows.update({(e["model"], e["provider"]): e for e in fixture["sandbox"]["endpoints"]})
    exact, used_roundings = 0, set()
    prices = Price.objects.select_related("endpoint__model", "endpoint__provider")
    assert prices.count() == len(rows)
    for price in prices:
        row = rows[(price.endpoint.model.slug, price.endpoint.provider.slug)]
        sources = row["price"]["source_usd"]
        for field, scale in SCALES.items():
            stored = getattr(price, field)
            assert type(stored) is int
            if field not in sources:
                assert stored == 0, (row["source_key"], field)
                continue
            source = Decimal(sources[field])
            expected = source * scale
            if expected == expected.to_integral_value():
                assert stored == int(expected), (row["source_key"], field, sources[field])
                exact += 1
            else:
                assert len(source.as_tuple().digits) >= 15, "only float noise may be rounded"
                assert stored == int(expected.quantize(Decimal(1), rounding=ROUND_HALF_UP))
                assert (sources[field], stored) in rounded, (row["source_key"], field)
                used_roundings.add((sources[field], stored))
    assert exact > 900
    # The header lists exactly the roundings the imported prices needed, no more.
    assert used_roundings == rounded
    assert len(fixture["header"]["rounded"]) == 21


def test_fixture_header_records_source_licence_date_and_rule(catalog_fixture):
    header = catalog_fixture["header"]
    assert "LiteLLM" in header["source"] and header["licence"].startswith("MIT")
    assert header["built_on"] == "2026-11-26"
    assert "half up" in header["rounding_rule"]
    for entry in header["rounded"]:
        assert set(entry) == {"entry", "source_value", "nanos"}
        assert len(Decimal(entry["source_value"]).as_tuple().digits) >= 15


def test_each_price_keeps_its_source_and_date(imported_catalog):
    assert not Price.objects.filter(source_date__isnull=True).exists()
    assert Price.objects.filter(source__startswith="https://").count() > 300


def test_catalog_covers_ten_providers_150_models_and_open_weights_on_three_plus(
        imported_catalog):
    real = Provider.objects.filter(is_sandbox=False)
    assert real.count() >= 10
    assert {"openai", "anthropic", "google-ai-studio", "mistral", "groq", "together",
            "deepinfra", "fireworks", "xai", "deepseek"} <= set(real.values_list("slug",
                                                                                flat=True))
    assert Model.objects.count() >= 150
    for slug in ("meta-llama/llama-3.3-70b-instruct", "openai/gpt-oss-120b",
                 "deepseek/deepseek-v3.2", "qwen/qwen3-235b-a22b-instruct-2507",
                 "moonshotai/kimi-k2.6", "z-ai/glm-4.6"):
        assert Endpoint.objects.filter(model__slug=slug, provider__is_sandbox=False).count() >= 3


def test_known_list_prices_land_as_exact_nanos(imported_catalog):
    def price(model, provider):
        return Price.objects.get(endpoint__model__slug=model, endpoint__provider__slug=provider)

    mini = price("openai/gpt-4o-mini", "openai")  # $0.15 / $0.60 per M, cache read $0.075
    assert (mini.input_nanos_per_m, mini.output_nanos_per_m, mini.cache_read_nanos_per_m) == (
        150_000_000, 600_000_000, 75_000_000)
    sonnet = price("anthropic/claude-sonnet-4.5", "anthropic")  # $3 / $15, write $3.75
    assert (sonnet.input_nanos_per_m, sonnet.output_nanos_per_m,
            sonnet.cache_write_nanos_per_m) == (3_000_000_000, 15_000_000_000, 3_750_000_000)
    kimi = price("moonshotai/kimi-k2.7-code", "novita")  # source 9.499999999999999E-7
    assert kimi.input_nanos_per_m == 950_000_000
