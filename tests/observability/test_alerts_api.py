"""`GET/POST /api/v1/alerts/`: every member reads the rules and events of their own org only;
owners, admins and management keys change a rule by kind (audited); bad values are 400s
naming the field; developers, finance and viewers are 403."""

import pytest

from billing.models import Wallet
from marketplace.tenancy.models import AuditEntry, Role
from observability.alerts.evaluate import evaluate_alerts
from observability.models import AlertEvent, AlertKind, AlertRule
from tests.observability.alert_support import USD, credit
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.FINANCE,
                                  Role.VIEWER])
def test_every_member_reads_the_rules_and_the_open_alerts(role):
    m = member(role)
    evaluate_alerts()  # no credit: the low-balance alert opens
    body = session_client(m).get(URL).json()
    rules = {rule["kind"]: rule for rule in body["rules"]}
    assert list(rules) == ["low_balance", "daily_spend", "error_rate", "key_spend"]
    assert rules["low_balance"]["threshold_usd"] == "0.5" and rules["low_balance"]["active"]
    assert rules["daily_spend"]["enabled"] is False and rules["daily_spend"]["active"] is False
    assert rules["error_rate"]["threshold_percent"] == 25
    assert rules["error_rate"]["min_requests"] == 20
    assert rules["error_rate"]["window_minutes"] == 15
    assert rules["key_spend"]["threshold_percent"] == 90
    [event] = body["events"]
    assert event["kind"] == "low_balance" and event["open"] is True
    assert event["unit"] == "nanos" and event["value"] == 0 and event["threshold"] == 500_000_000
    assert event["value_text"] == "$0.00" and event["threshold_text"] == "$0.50"
    assert event["title"] == "Your balance is low"


def test_another_orgs_alerts_are_invisible():
    mine = member(Role.OWNER)
    theirs = member(Role.OWNER)
    credit(mine.org, 10 * USD)
    evaluate_alerts()
    assert AlertEvent.objects.filter(org=theirs.org).exists()
    assert session_client(mine).get(URL).json()["events"] == []
    # Naming the other org is 404, as for any org one is not a member of.
    response = session_client(mine).get(URL, HTTP_X_SWITCHYARD_ORG=str(theirs.org.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_create_and_change_rules_with_an_audit_entry(role):
    m = member(role)
    client = session_client(m)
    response = client.post(URL, {"kind": "daily_spend", "enabled": True,
                                 "threshold_usd": "12.50"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["threshold_usd"] == "12.5"
    assert response.json()["threshold_nanos"] == 12_500_000_000
    assert response.json()["active"] is True
    entry = AuditEntry.objects.get(org=m.org, action="alert_rule.changed")
    assert entry.before == {} and entry.after == {"enabled": True,
                                                  "threshold_nanos": 12_500_000_000}

    response = client.post(URL, {"kind": "error_rate", "threshold_percent": 10,
                                 "min_requests": 50}, format="json")
    assert response.json()["threshold_percent"] == 10 and response.json()["min_requests"] == 50
    # The low-balance threshold is the wallet's (billing's column, billing's audit entry).
    response = client.post(URL, {"kind": "low_balance", "threshold_usd": "7"}, format="json")
    assert response.json()["threshold_usd"] == "7"
    assert Wallet.objects.get(org=m.org).low_balance_threshold_nanos == 7 * USD
    assert AuditEntry.objects.filter(org=m.org,
                                     action="wallet.low_balance_threshold_changed").exists()
    # Saving the same again changes nothing and writes nothing.
    before = AuditEntry.objects.filter(org=m.org).count()
    client.post(URL, {"kind": "error_rate", "threshold_percent": 10}, format="json")
    assert AuditEntry.objects.filter(org=m.org).count() == before
    rules = {r["kind"]: r for r in client.get(URL).json()["rules"]}
    assert rules["daily_spend"]["threshold_usd"] == "12.5" and rules["daily_spend"]["saved"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "nope"}, "kind"),
    ({}, "kind"),
    ({"kind": "error_rate", "threshold_percent": 0}, "threshold_percent"),
    ({"kind": "error_rate", "threshold_percent": 101}, "threshold_percent"),
    ({"kind": "error_rate", "threshold_percent": "NaN"}, "threshold_percent"),
    ({"kind": "error_rate", "min_requests": 0}, "min_requests"),
    ({"kind": "key_spend", "min_requests": 5}, "min_requests"),
    ({"kind": "low_balance", "threshold_percent": 50}, "threshold_percent"),
    ({"kind": "key_spend", "threshold_usd": "5"}, "threshold_usd"),
    ({"kind": "daily_spend", "enabled": True}, "threshold_usd"),  # on, with no threshold
    ({"kind": "daily_spend", "threshold_usd": "0"}, "threshold_usd"),
    ({"kind": "daily_spend", "threshold_usd": "1e308"}, "threshold_usd"),
    ({"kind": "low_balance", "threshold_usd": "2000000"}, "threshold_usd"),
    ({"kind": "low_balance", "threshold_usd": "-1"}, "threshold_usd"),
])
def test_bad_values_are_400_naming_the_field(payload, field):
    m = member(Role.OWNER)
    response = session_client(m).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not AlertRule.objects.exists()
    assert not AuditEntry.objects.filter(action="alert_rule.changed").exists()


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_other_roles_cannot_change_rules(role):
    m = member(role)
    response = session_client(m).post(URL, {"kind": "key_spend", "threshold_percent": 50},
                                      format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not AlertRule.objects.exists()


def test_management_keys_change_rules_and_inference_keys_are_refused():
    m = member(Role.OWNER)
    _, management = api_key(m.org, scope="management")
    _, inference = api_key(m.org, name="inference")
    response = key_client(management).post(URL, {"kind": "key_spend", "threshold_percent": 75},
                                           format="json")
    assert response.status_code == 200 and response.json()["threshold_percent"] == 75
    assert AlertRule.objects.get(org=m.org, kind=AlertKind.KEY_SPEND).threshold_percent == 75
    assert key_client(inference).get(URL).status_code == 403
