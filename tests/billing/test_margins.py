"""Margins: precedence of the rules, and charges exact to the nano-dollar against Decimal."""

import json
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from billing.models import MarginRule
from billing.pricing import caller_price_nanos, compute_charge
from billing.selectors.spend import get_margin_table
from core.money import usage_cost_nanos

CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "fixtures" / "catalog.json"


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.django_db
def test_precedence_org_contract_then_model_then_provider_then_default(settings, make_org):
    settings.MARGIN_DEFAULT_BPS = 550
    acme, other = make_org("Acme"), make_org("Other")
    MarginRule.objects.create(provider_slug="groq", bps=300)
    MarginRule.objects.create(model_slug="openai/gpt-4o", bps=700)
    MarginRule.objects.create(model_slug="openai/gpt-4o", provider_slug="azure", bps=650)
    MarginRule.objects.create(org=acme, bps=100)
    MarginRule.objects.create(org=acme, model_slug="openai/gpt-4o", bps=50)
    table = get_margin_table()

    # Platform rules for an org without a contract.
    assert table.bps(other.pk, "meta/llama-3", "together") == 550
    assert table.bps(other.pk, "meta/llama-3", "groq") == 300
    assert table.bps(other.pk, "openai/gpt-4o", "groq") == 700  # model beats provider
    assert table.bps(other.pk, "openai/gpt-4o", "azure") == 650  # model+provider beats model
    # The org's contract beats every platform rule, most specific contract first.
    assert table.bps(acme.pk, "meta/llama-3", "groq") == 100
    assert table.bps(acme.pk, "openai/gpt-4o", "azure") == 50
    assert table.bps(None, "meta/llama-3", "groq") == 300


@pytest.mark.django_db
def test_margin_table_version_changes_with_rules_and_default(settings):
    settings.MARGIN_DEFAULT_BPS = 550
    empty = get_margin_table()
    assert get_margin_table().version == empty.version
    MarginRule.objects.create(provider_slug="groq", bps=300)
    with_rule = get_margin_table()
    assert with_rule.version != empty.version
    # The default is the database's rule with no scope (seeded by migration 0011), not the setting.
    MarginRule.objects.update_or_create(org=None, model_slug="", provider_slug="",
                                        defaults={"bps": 600})
    assert get_margin_table().version != with_rule.version
    assert get_margin_table().bps(1, "m", "p") == 600
    settings.MARGIN_DEFAULT_BPS = 700
    assert get_margin_table().bps(1, "m", "p") == 600


def test_charges_match_an_independent_decimal_computation_for_catalog_prices():
    data = json.loads(CATALOG.read_text())
    noisy = {entry["entry"].rsplit(":", 1)[0] for entry in data["header"]["rounded"]}
    endpoints = [e for e in data["endpoints"] if e["source_key"] not in noisy]
    rng = random.Random(20261126)
    sample = rng.sample(endpoints, 60)
    checked = 0
    for endpoint in sample:
        price, usd = endpoint["price"], endpoint["price"]["source_usd"]
        for _ in range(5):
            prompt, completion = rng.randint(1, 300_000), rng.randint(0, 40_000)
            bps = rng.choice([0, 1, 333, 550, 1000, 2499])
            upstream = usage_cost_nanos(
                prompt_tokens=prompt, completion_tokens=completion,
                input_nanos_per_m=price["input_nanos_per_m"],
                output_nanos_per_m=price["output_nanos_per_m"],
            )
            got = compute_charge(upstream, bps=bps, is_byok=False, byok_fee_bps=500)

            # Independently: the source's USD-per-token strings, Decimal all the way.
            cost_usd = prompt * Decimal(usd["input_nanos_per_m"]) + completion * Decimal(
                usd["output_nanos_per_m"]
            )
            want_upstream = _half_up(cost_usd * 10**9)
            want_margin = _half_up(Decimal(want_upstream) * bps / 10_000)
            assert got.upstream_cost_nanos == want_upstream, endpoint["source_key"]
            assert got.margin_nanos == want_margin
            assert got.charge_nanos == want_upstream + want_margin
            assert got.byok_fee_nanos == 0
            checked += 1
    assert checked == 300


def test_rounding_is_half_up_once_on_the_margin():
    # 1_001 * 550 / 10_000 = 55.055 -> 55; 1_010 * 550 / 10_000 = 55.55 -> 56; 10 * 5000 bps = 5.
    assert compute_charge(1_001, bps=550, is_byok=False, byok_fee_bps=0).margin_nanos == 55
    assert compute_charge(1_010, bps=550, is_byok=False, byok_fee_bps=0).margin_nanos == 56
    assert compute_charge(1, bps=5_000, is_byok=False, byok_fee_bps=0).margin_nanos == 1
    assert compute_charge(1, bps=4_999, is_byok=False, byok_fee_bps=0).margin_nanos == 0


def test_byok_pays_only_the_fee_and_waived_requests_write_off_the_upstream():
    byok = compute_charge(2_000_003, bps=550, is_byok=True, byok_fee_bps=500)
    assert (byok.upstream_cost_nanos, byok.margin_nanos, byok.byok_fee_nanos, byok.charge_nanos,
            byok.write_off_nanos) == (2_000_003, 0, 100_000, 100_000, 0)
    waived = compute_charge(2_000_003, bps=550, is_byok=False, byok_fee_bps=500, waived=True)
    assert (waived.margin_nanos, waived.charge_nanos, waived.write_off_nanos) == (0, 0, 2_000_003)
    # The ledger's identity holds in every case: charge + write-off = upstream + margin + fee.
    for c in (compute_charge(987_654_321, bps=550, is_byok=False, byok_fee_bps=500), waived):
        assert c.charge_nanos + c.write_off_nanos == (
            c.upstream_cost_nanos + c.margin_nanos + c.byok_fee_nanos
        )
    with pytest.raises(ValueError):
        compute_charge(-1, bps=550, is_byok=False, byok_fee_bps=500)


def test_caller_price_nanos_includes_the_margin():
    # $2.50/M at 5.5% is $2.6375/M; $0.075/M at 5.5% = 79_125_000 nanos/M exactly.
    assert caller_price_nanos(2_500_000_000, 550) == 2_637_500_000
    assert caller_price_nanos(75_000_000, 550) == 79_125_000
    assert caller_price_nanos(3, 5_000) == 5  # 1.5 rounds half up to 2
