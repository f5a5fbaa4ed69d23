"""The dashboard's alert banner (every page, while an alert is open, only the current org's)
and the alerts page (every member reads; owners and admins edit; form errors on bad input)."""

import datetime as dt

import pytest

from billing.models import Wallet
from billing.services.low_balance import set_low_balance_threshold
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from observability.alerts.evaluate import evaluate_alerts
from observability.models import AlertRule
from observability.recording import RequestRow, store_request_records
from tests.observability.alert_support import USD, credit
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/alerts/"


def _client(client, m):
    client.force_login(m.user)
    return client


def test_the_banner_shows_on_every_page_while_open_and_goes_when_cleared(client):
    m = member(Role.DEVELOPER)
    credit(m.org, 2 * USD)
    set_low_balance_threshold(org=m.org, threshold_nanos=5 * USD, actor=Actor(role=Role.OWNER))
    _client(client, m)
    assert 'id="alert-banner"' not in client.get("/dashboard/keys/").content.decode()

    evaluate_alerts()
    for path in ("/dashboard/keys/", "/dashboard/settings/", PAGE, "/dashboard/"):
        html = client.get(path).content.decode()
        assert 'id="alert-banner"' in html, path
        assert "$2.00 available, below this organization's warning threshold of $5.00" in html
    assert "Ask an owner, admin or finance member to top up" in html

    credit(m.org, 10 * USD)
    evaluate_alerts()
    assert 'id="alert-banner"' not in client.get("/dashboard/keys/").content.decode()


def test_the_banner_lists_every_open_alert_of_the_current_org_only(client):
    m = member(Role.OWNER)  # no credit: low balance; and 25 failed requests
    other = member(Role.OWNER)  # in good standing
    credit(other.org, 10 * USD)
    store_request_records([RequestRow(
        request_id=f"gen-banner-{i}", created_at=dt.datetime.now(dt.UTC), org_id=m.org.pk,
        key_id=None, model_requested="a/b", status=502, outcome="failed",
        error_type="upstream_5xx") for i in range(25)])
    evaluate_alerts()
    html = _client(client, m).get("/dashboard/keys/").content.decode()
    assert "2 open alerts" in html and "High error rate" in html and 'id="low-balance"' in html
    assert '<a class="button" href="/billing/wallet/">Top up</a>' in html  # an owner
    html = _client(client, other).get("/dashboard/keys/").content.decode()
    assert 'id="alert-banner"' not in html


def test_members_read_the_page_and_only_owners_and_admins_edit(client):
    developer = member(Role.DEVELOPER)
    html = _client(client, developer).get(PAGE).content.decode()
    assert 'id="rule-low_balance"' in html and 'id="rule-key_spend"' in html
    assert "Only owners and admins can change these." in html
    assert 'name="kind"' not in html
    response = client.post(PAGE, {"kind": "key_spend", "key_spend-enabled": "on",
                                  "key_spend-threshold_percent": "50"})
    assert response.status_code == 403
    assert not AlertRule.objects.exists()


def test_an_owner_saves_a_rule_and_bad_input_is_a_form_error(client):
    owner = member(Role.OWNER)
    _client(client, owner)
    response = client.post(PAGE, {"kind": "daily_spend", "daily_spend-enabled": "on",
                                  "daily_spend-threshold_usd": "$1,250.00"})
    assert response.status_code == 302
    rule = AlertRule.objects.get(org=owner.org, kind="daily_spend")
    assert rule.enabled and rule.threshold_nanos == 1250 * USD
    assert "Daily spend alert saved." in client.get(PAGE).content.decode()

    response = client.post(PAGE, {"kind": "error_rate", "error_rate-enabled": "on",
                                  "error_rate-threshold_percent": "250",
                                  "error_rate-min_requests": "20"})
    assert response.status_code == 400
    assert 'id="id_error_rate-threshold_percent_errors"' in response.content.decode()
    assert not AlertRule.objects.filter(kind="error_rate").exists()

    response = client.post(PAGE, {"kind": "low_balance", "low_balance-enabled": "on",
                                  "low_balance-threshold_usd": "3"})
    assert response.status_code == 302
    assert Wallet.objects.get(org=owner.org).low_balance_threshold_nanos == 3 * USD

    # Turning daily spend on with no threshold is the service's error, on its field.
    other = member(Role.ADMIN)
    _client(client, other)
    response = client.post(PAGE, {"kind": "daily_spend", "daily_spend-enabled": "on",
                                  "daily_spend-threshold_usd": ""})
    assert response.status_code == 400
    assert "Set a daily spend threshold" in response.content.decode()
