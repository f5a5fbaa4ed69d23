"""Key spend limits through the management API, and the `/v1/key` and `/v1/credits` figures."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import KeySpendLimit
from billing.selectors.spend import get_key_usage, get_org_credits
from billing.services.holds import place_hold, settle_hold
from billing.services.ledger import ensure_wallet
from billing.services.spend_limits import set_key_spend_limit
from core.errors import Forbidden, NotFound
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.billing.hotpath_support import admission, fund, settlement
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


def _url(key_id):
    return f"/api/v1/billing/keys/{key_id}/spend-limit"


def _client_for(membership):
    client = APIClient()
    client.force_login(membership.user)
    client.credentials(HTTP_X_SWITCHYARD_ORG=str(membership.org_id))
    return client


def _charge(org, key, upstream):
    adm = admission(org, key, want=upstream * 2)
    # Settled now (not at the builder's fixed timestamp), so it falls in the current periods.
    return settle_hold(settlement(adm, place_hold(adm), upstream=upstream, created_at_epoch_ms=0))


def test_owner_sets_reads_and_clears_a_key_limit():
    owner = member(Role.OWNER)
    ensure_wallet(owner.org)
    key, _ = api_key(owner.org)
    client = _client_for(owner)

    put = client.put(_url(key.pk), {"limit_usd": "10.50", "period": "day"}, format="json")
    assert put.status_code == 200, put.content
    assert put.json() == {
        "key_id": key.pk, "limit_nanos": 10_500_000_000, "limit_usd": "10.5", "period": "day",
        "period_spent_nanos": 0, "held_nanos": 0, "limit_remaining_nanos": 10_500_000_000,
        "usage_nanos": 0,
    }
    assert client.get(_url(key.pk)).json() == put.json()
    limit = KeySpendLimit.objects.get(api_key=key)
    assert (limit.org_id, limit.limit_nanos, limit.period) == (owner.org_id, 10_500_000_000, "day")

    changed = client.put(_url(key.pk), {"limit_nanos": 7, "period": "day"}, format="json")
    assert changed.json()["limit_nanos"] == 7
    assert KeySpendLimit.objects.count() == 1

    assert client.delete(_url(key.pk)).status_code == 204
    assert not KeySpendLimit.objects.exists()
    assert client.get(_url(key.pk)).json()["limit_nanos"] is None


def test_a_management_key_may_set_limits():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    _, management = api_key(owner.org, scope="management", name="ops")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {management}")
    response = client.put(_url(key.pk), {"limit_nanos": 5_000, "period": "total"}, format="json")
    assert response.status_code == 200
    assert KeySpendLimit.objects.get(api_key=key).limit_nanos == 5_000


def test_a_developer_cannot_set_limits():
    developer = member(Role.DEVELOPER)
    key, _ = api_key(developer.org)
    response = _client_for(developer).put(
        _url(key.pk), {"limit_nanos": 5_000, "period": "month"}, format="json")
    assert response.status_code == 403
    assert not KeySpendLimit.objects.exists()
    with pytest.raises(Forbidden):
        set_key_spend_limit(org=developer.org, key_id=key.pk, limit_nanos=1, period="day",
                            actor=Actor(role=Role.DEVELOPER))


def test_another_orgs_key_is_404_and_changes_nothing():
    owner, stranger = member(Role.OWNER), member(Role.OWNER)
    their_key, _ = api_key(stranger.org)
    KeySpendLimit.objects.create(org=stranger.org, api_key=their_key, limit_nanos=99,
                                 period="day", period_start=timezone.now())
    client = _client_for(owner)
    assert client.get(_url(their_key.pk)).status_code == 404
    put = client.put(_url(their_key.pk), {"limit_nanos": 1, "period": "day"}, format="json")
    assert put.status_code == 404
    assert client.delete(_url(their_key.pk)).status_code == 404
    assert list(KeySpendLimit.objects.values_list("limit_nanos", flat=True)) == [99]
    with pytest.raises(NotFound):
        set_key_spend_limit(org=owner.org, key_id=their_key.pk, limit_nanos=1, period="day",
                            actor=Actor(role=Role.OWNER))


def test_bad_input_is_a_400_naming_the_field():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    client = _client_for(owner)
    bad_period = client.put(_url(key.pk), {"limit_nanos": 1, "period": "year"}, format="json")
    assert bad_period.status_code == 400, bad_period.content
    assert list(bad_period.json()) == ["period"]
    both = client.put(_url(key.pk), {"limit_nanos": 1, "limit_usd": "1", "period": "day"},
                      format="json")
    assert both.status_code == 400
    negative = client.put(_url(key.pk), {"limit_nanos": -1, "period": "day"}, format="json")
    assert negative.status_code == 400
    assert not KeySpendLimit.objects.exists()


def test_a_new_limit_counts_what_the_key_already_spent_this_period(org, make_key):
    key = make_key(org)
    fund(org, 10**9)
    record = _charge(org, key, upstream=1_000_000)  # 1_055_000 with the margin
    limit = set_key_spend_limit(org=org, key_id=key.pk, limit_nanos=2_000_000, period="month",
                                actor=Actor(role=Role.ADMIN))
    assert limit.spent_nanos == record.charge_nanos == 1_055_000
    usage = get_key_usage(org.pk, key.pk)
    assert usage["limit_remaining_nanos"] == 2_000_000 - 1_055_000
    assert (usage["usage_nanos"], usage["usage_daily_nanos"], usage["usage_monthly_nanos"]) == (
        1_055_000, 1_055_000, 1_055_000)


def test_key_usage_and_org_credits(org, make_key):
    key, other_key = make_key(org), make_key(org)
    fund(org, 50_000_000)
    fund(org, 25_000_000)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=9_000_000, period="week",
                                 period_start=timezone.now() - timedelta(days=30),
                                 spent_nanos=8_000_000)
    a = _charge(org, key, upstream=2_000_000)
    b = _charge(org, other_key, upstream=3_000_000)
    held = admission(org, key, want=1_000_000)
    place_hold(held)

    usage = get_key_usage(org.pk, key.pk)
    assert usage == {
        "usage_nanos": a.charge_nanos, "usage_daily_nanos": a.charge_nanos,
        "usage_weekly_nanos": a.charge_nanos, "usage_monthly_nanos": a.charge_nanos,
        "byok_usage_nanos": 0, "byok_usage_daily_nanos": 0, "byok_usage_weekly_nanos": 0,
        "byok_usage_monthly_nanos": 0,
        "limit_nanos": 9_000_000, "limit_period": "week",
        # The stale 8_000_000 belonged to an earlier week.
        "period_spent_nanos": a.charge_nanos, "held_nanos": 1_000_000,
        "limit_remaining_nanos": 9_000_000 - a.charge_nanos - 1_000_000,
    }
    assert get_key_usage(org.pk, other_key.pk)["limit_nanos"] is None
    byok_adm = admission(org, other_key, want=1_000_000, is_byok=True)
    settle_hold(settlement(byok_adm, place_hold(byok_adm), upstream=400_000, byok=True,
                           created_at_epoch_ms=0))
    other = get_key_usage(org.pk, other_key.pk)
    assert (other["byok_usage_nanos"], other["byok_usage_monthly_nanos"]) == (400_000, 400_000)
    assert other["usage_nanos"] == b.charge_nanos + 20_000  # the 5% BYOK fee
    b_fee = 20_000
    credits = get_org_credits(org.pk)
    assert credits == {
        "total_credits_nanos": 75_000_000,
        "total_usage_nanos": a.charge_nanos + b.charge_nanos + b_fee,
        "balance_nanos": 75_000_000 - a.charge_nanos - b.charge_nanos - b_fee,
        "held_nanos": 1_000_000,
    }
