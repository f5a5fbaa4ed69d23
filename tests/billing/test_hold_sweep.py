"""The stale-hold sweep settles an orphaned hold exactly once, at the prompt estimate."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.models import Hold, HoldStatus, MarginRule, UsageRecord, Wallet
from billing.pricing import compute_charge
from billing.services.holds import place_hold, settle_hold
from billing.tasks.sweep import sweep_stale_holds
from catalog.models import Endpoint, Model, Price, Provider
from core.money import usage_cost_nanos
from tests.billing.hotpath_support import admission, fund, settlement

PROMPT_BYTES = 12_345
INPUT_PRICE = 2_500_000_000  # $2.50 per million input tokens
HOLD = 100_000_000  # $0.10: above the prompt estimate, so nothing is capped


def _orphan(org, key, **overrides):
    """A hold placed by a gateway that then died: its deadline is already behind us."""
    fields = {"prompt_upper_bytes": PROMPT_BYTES, "input_nanos_per_m": INPUT_PRICE, **overrides}
    adm = admission(org, key, want=HOLD, **fields)
    place_hold(adm, now=timezone.now() - timedelta(seconds=adm.deadline_s + 5))
    return adm


def _expected(bps=None, byok=False):
    upstream = usage_cost_nanos(prompt_tokens=PROMPT_BYTES, input_nanos_per_m=INPUT_PRICE,
                                output_nanos_per_m=0)
    return compute_charge(upstream, bps=settings.MARGIN_DEFAULT_BPS if bps is None else bps,
                          is_byok=byok, byok_fee_bps=settings.BYOK_FEE_BPS)


@pytest.mark.django_db
def test_sweep_settles_an_orphan_once_even_when_run_twice(org, make_key):
    key = make_key(org)
    fund(org, 1_000_000_000)
    adm = _orphan(org, key)
    fresh = admission(org, key, want=2_000)  # still within its deadline: left alone
    place_hold(fresh)

    assert sweep_stale_holds.apply().get() == 1
    assert sweep_stale_holds.apply().get() == 0

    want = _expected()
    record = UsageRecord.objects.get()
    assert record.request_id == adm.request_id
    assert (record.upstream_cost_nanos, record.margin_nanos, record.charge_nanos) == (
        want.upstream_cost_nanos, want.margin_nanos, want.charge_nanos)
    assert want.upstream_cost_nanos == 30_862_500  # 12_345 tokens x $2.50/M
    assert (record.prompt_tokens, record.completion_tokens, record.estimated) == (
        PROMPT_BYTES, 0, True)
    assert (record.org_id, record.api_key_id, record.provider_slug) == (
        org.pk, key.pk, "sandbox-openai")
    assert Hold.objects.get(request_id=adm.request_id).status == HoldStatus.SWEPT
    assert Hold.objects.get(request_id=fresh.request_id).status == HoldStatus.OPEN
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (1_000_000_000 - want.charge_nanos, 2_000)
    # The gateway's late settlement finds the hold closed and charges nothing more.
    assert settle_hold(settlement(adm, HOLD, upstream=900_000)) is None
    assert Wallet.objects.get(org=org).balance_nanos == 1_000_000_000 - want.charge_nanos


@pytest.mark.django_db
def test_sweep_prices_at_the_catalog_price_version_and_the_margin_rule(org, make_key):
    key = make_key(org)
    fund(org, 1_000_000_000)
    provider = Provider.objects.create(slug="acme-ai", name="Acme AI", wire_format="openai",
                                       base_url="https://acme.example/v1")
    model = Model.objects.create(slug="acme/m1", author="acme", name="M1")
    endpoint = Endpoint.objects.create(model=model, provider=provider, upstream_model_id="m1")
    price = Price.objects.create(endpoint=endpoint, effective_from=timezone.now(),
                                 input_nanos_per_m=INPUT_PRICE, output_nanos_per_m=1)
    MarginRule.objects.create(org=org, model_slug="acme/m1", bps=1_234)
    # The hold's own copy of the price is wrong on purpose: the catalog row wins.
    _orphan(org, key, price_id=price.pk, endpoint_id=endpoint.pk, model_slug="acme/m1",
            provider_slug="acme-ai", input_nanos_per_m=1)

    assert sweep_stale_holds.apply().get() == 1
    want = _expected(bps=1_234)
    assert UsageRecord.objects.get().charge_nanos == want.charge_nanos


@pytest.mark.django_db
def test_sweep_charges_a_byok_orphan_only_the_fee(org, make_key):
    key = make_key(org)
    fund(org, 1_000_000_000)
    _orphan(org, key, is_byok=True)
    assert sweep_stale_holds.apply().get() == 1
    want = _expected(byok=True)
    record = UsageRecord.objects.get()
    assert (record.byok_fee_nanos, record.charge_nanos, record.margin_nanos) == (
        want.byok_fee_nanos, want.byok_fee_nanos, 0)


def test_the_sweep_runs_every_minute_from_beat():
    from marketplace.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["billing.sweep_stale_holds"]
    assert entry["schedule"] == 60.0
    assert entry["task"] in app.tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_settle_each_orphan_exactly_once(org, make_key):
    key = make_key(org)
    fund(org, 10**10)
    orphans = [_orphan(org, key) for _ in range(40)]
    counts, errors = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            counts.append(sweep_stale_holds.apply(kwargs={"batch_size": 7}).get())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(counts) == 40
    assert UsageRecord.objects.count() == 40
    assert set(UsageRecord.objects.values_list("request_id", flat=True)) == {
        a.request_id for a in orphans}
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (10**10 - 40 * _expected().charge_nanos, 0)
