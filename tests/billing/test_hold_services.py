"""Billing's ORM charging services: holds, settlements and releases, and their 402s."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Hold, HoldStatus, KeySpendLimit, UsageRecord, Wallet
from billing.services.holds import place_hold, release_hold, settle_hold
from core.errors import InsufficientCredits
from tests.billing.hotpath_support import admission, fund, settlement

pytestmark = pytest.mark.django_db


def _wallet(org):
    return Wallet.objects.get(org=org)


def test_hold_grants_the_wanted_amount_and_records_the_hold(org, make_key):
    key = make_key(org)
    fund(org, 10_000)
    adm = admission(org, key, want=4_000, minimum=1_000)
    assert place_hold(adm) == 4_000
    wallet = _wallet(org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (10_000, 4_000)
    hold = Hold.objects.get(request_id=adm.request_id)
    assert (hold.amount_nanos, hold.status, hold.key_held_nanos) == (4_000, "open", 0)
    assert (hold.prompt_upper_bytes, hold.provider_slug, hold.input_nanos_per_m) == (
        1_200, "sandbox-openai", 150_000_000)
    assert hold.deadline_at - hold.created_at == timedelta(seconds=120)


def test_hold_is_capped_at_what_the_wallet_affords_including_the_credit_limit(org, make_key):
    key = make_key(org)
    fund(org, 3_000)
    Wallet.objects.filter(org=org).update(credit_limit_nanos=500)
    assert place_hold(admission(org, key, want=10_000, minimum=1_000)) == 3_500
    assert _wallet(org).held_nanos == 3_500
    with pytest.raises(InsufficientCredits) as refused:
        place_hold(admission(org, key, want=10_000, minimum=1))
    assert refused.value.metadata == {"limit": "wallet", "available_nanos": 0,
                                      "required_nanos": 1}
    assert Hold.objects.count() == 1


def test_refusal_is_an_openai_style_402_naming_the_wallet(org, make_key):
    key = make_key(org)
    fund(org, 999)
    with pytest.raises(InsufficientCredits) as refused:
        place_hold(admission(org, key, want=5_000, minimum=1_000))
    body = refused.value.as_openai()
    assert refused.value.status == 402
    assert body["error"]["code"] == 402
    assert body["error"]["type"] == "insufficient_credits"
    assert body["error"]["metadata"] == {
        "reason": "insufficient_credits", "limit": "wallet", "available_nanos": 999,
        "required_nanos": 1_000,
    }
    assert "needs at least $0.000001" in body["error"]["message"]
    assert _wallet(org).held_nanos == 0
    assert not Hold.objects.exists()


def test_an_org_without_a_wallet_is_refused(make_key):
    from marketplace.tenancy.models import Organization

    bare = Organization.objects.create(name="Bare", slug="bare-no-wallet")
    key = make_key(bare)
    with pytest.raises(InsufficientCredits):
        place_hold(admission(bare, key, want=1, minimum=1))
    assert not Hold.objects.exists()


def test_key_limit_binds_before_the_wallet_and_says_so(org, make_key):
    key = make_key(org)
    fund(org, 1_000_000)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=5_000, period="total",
                                 spent_nanos=1_000, period_start=timezone.now())
    assert place_hold(admission(org, key, want=3_000, minimum=100)) == 3_000
    assert place_hold(admission(org, key, want=3_000, minimum=100)) == 1_000
    with pytest.raises(InsufficientCredits) as refused:
        place_hold(admission(org, key, want=3_000, minimum=100))
    assert refused.value.metadata["limit"] == "key_spend_limit"
    assert refused.value.metadata["available_nanos"] == 0
    limit = KeySpendLimit.objects.get(api_key=key)
    assert (limit.spent_nanos, limit.held_nanos) == (1_000, 4_000)
    assert _wallet(org).held_nanos == 4_000


def test_a_daily_limit_rolls_over_at_midnight_utc(org, make_key):
    key = make_key(org)
    fund(org, 1_000_000)
    yesterday = timezone.now() - timedelta(days=1)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=5_000, period="day",
                                 spent_nanos=5_000, period_start=yesterday)
    assert place_hold(admission(org, key, want=5_000)) == 5_000
    limit = KeySpendLimit.objects.get(api_key=key)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert (limit.spent_nanos, limit.held_nanos, limit.period_start) == (0, 5_000, today)


def test_settle_debits_the_charge_releases_the_rest_and_writes_usage_once(org, make_key):
    key = make_key(org)
    fund(org, 50_000)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=40_000, period="month",
                                 period_start=timezone.now())
    adm = admission(org, key, want=20_000)
    granted = place_hold(adm)
    s = settlement(adm, granted, upstream=10_000)  # 10_000 + 550 margin
    record = settle_hold(s)
    assert record.charge_nanos == 10_550
    assert (record.upstream_cost_nanos, record.margin_nanos, record.write_off_nanos) == (
        10_000, 550, 0)
    assert (record.org_id, record.api_key_id, record.attempts[0]["status"]) == (org.pk, key.pk, 200)
    wallet = _wallet(org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (50_000 - 10_550, 0)
    limit = KeySpendLimit.objects.get(api_key=key)
    assert (limit.spent_nanos, limit.held_nanos) == (10_550, 0)
    assert Hold.objects.get(request_id=adm.request_id).status == HoldStatus.SETTLED
    # A second settlement of the same request changes nothing.
    assert settle_hold(s) is None
    assert UsageRecord.objects.count() == 1
    assert _wallet(org).balance_nanos == 50_000 - 10_550


def test_overshoot_beyond_the_hold_is_written_off_not_charged(org, make_key):
    key = make_key(org)
    fund(org, 1_000)
    Wallet.objects.filter(org=org).update(credit_limit_nanos=0)
    adm = admission(org, key, want=1_000)
    granted = place_hold(adm)
    record = settle_hold(settlement(adm, granted, upstream=2_000))  # charge 2_110 > 1_000
    assert (record.charge_nanos, record.write_off_nanos) == (1_000, 1_110)
    assert record.charge_nanos + record.write_off_nanos == (
        record.upstream_cost_nanos + record.margin_nanos)
    assert _wallet(org).balance_nanos == 0


def test_waived_error_is_not_charged(org, make_key):
    key = make_key(org)
    fund(org, 5_000)
    adm = admission(org, key, want=5_000)
    record = settle_hold(settlement(adm, place_hold(adm), upstream=700, waived=True))
    assert (record.charge_nanos, record.write_off_nanos, record.finish_reason) == (0, 700, "error")
    assert (_wallet(org).balance_nanos, _wallet(org).held_nanos) == (5_000, 0)


def test_release_returns_the_hold_once(org, make_key):
    key = make_key(org)
    fund(org, 5_000)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=9_000, period="week",
                                 period_start=timezone.now())
    adm = admission(org, key, want=4_000)
    place_hold(adm)
    assert release_hold(adm.request_id) is True
    assert release_hold(adm.request_id) is False
    assert settle_hold(settlement(adm, 4_000, upstream=10)) is None
    assert (_wallet(org).balance_nanos, _wallet(org).held_nanos) == (5_000, 0)
    assert KeySpendLimit.objects.get(api_key=key).held_nanos == 0
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert not UsageRecord.objects.exists()
