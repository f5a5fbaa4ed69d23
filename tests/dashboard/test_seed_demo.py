"""`manage.py seed_demo --json`: the contract `make run` prints from.

ARCHITECTURE.md, "Running it".
"""

import io
import json

import pytest
from django.core.management import call_command

from billing.selectors.spend import get_org_credits
from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import ApiKey, Membership, Organization
from marketplace.tenancy.selectors import get_key_auth

pytestmark = pytest.mark.django_db


def _seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_prints_the_contract_and_is_idempotent():
    first = _seed()
    assert set(first) == {"org", "api_key", "email", "password", "dashboard_url",
                          "vendor_org", "vendor_email", "vendor_password"}
    assert first["dashboard_url"].endswith("/dashboard/")
    second = _seed()
    assert (second["org"], second["email"], second["password"]) == (
        first["org"], first["email"], first["password"]
    )
    # The demo org and the demo vendor's org (issue 14), each once.
    assert Organization.objects.count() == 2
    org = Organization.objects.get(slug="demo")
    assert Membership.objects.get(org=org).role == "owner"
    # A fresh key each run; the previous demo key is revoked.
    assert second["api_key"] != first["api_key"]
    old, new = get_key_auth(hash_api_key(first["api_key"])), get_key_auth(
        hash_api_key(second["api_key"])
    )
    assert old.revoked is True and new.is_usable()
    assert (new.org_id, new.scope, new.name) == (org.pk, "inference", "demo")
    assert ApiKey.objects.filter(org=org, revoked_at__isnull=True).count() == 1
    # $10 of promotional credit, granted once however often the command runs.
    assert get_org_credits(org.pk)["balance_nanos"] == 10_000_000_000


def test_demo_user_can_sign_in(client):
    facts = _seed()
    response = client.post(
        "/accounts/login/", {"login": facts["email"], "password": facts["password"]}
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert facts["org"].encode() in page.content


def test_seed_demo_usage_adds_history_that_moves_no_balance():
    from billing.models import UsageRecord, Wallet

    call_command("seed_demo", stdout=io.StringIO())
    org = Organization.objects.get(slug="demo")
    balance = Wallet.objects.get(org=org).balance_nanos
    out = io.StringIO()
    call_command("seed_demo", "--usage", "120", stdout=out)
    assert "Usage records added: 120" in out.getvalue()
    records = UsageRecord.objects.filter(org=org)
    assert records.count() == 120
    assert not records.filter(posted_at__isnull=True).exists()  # the poster leaves them alone
    assert records.filter(charge_nanos__gt=0).count() > 100
    assert Wallet.objects.get(org=org).balance_nanos == balance


def test_seed_demo_usage_writes_request_records_and_fills_the_analytics():
    from billing.models import UsageRecord
    from observability.models import RequestRecord, RequestRollup

    call_command("seed_demo", "--usage", "200", stdout=io.StringIO())
    org = Organization.objects.get(slug="demo")
    records = RequestRecord.objects.filter(org=org)
    # Every usage record's request, plus refusals that never reached a provider.
    assert set(UsageRecord.objects.filter(org=org).values_list("request_id", flat=True)) <= set(
        records.values_list("request_id", flat=True))
    assert records.filter(outcome="refused").exists()
    assert records.exclude(task="").exists() and records.exclude(app="").exists()
    all_days = RequestRollup.objects.filter(org=org, period="day", dimension="all")
    assert sum(all_days.values_list("requests", flat=True)) == sum(
        records.values_list("count", flat=True))

    out = io.StringIO()
    call_command("seed_demo", "--usage", "200", "--usage-if-empty", stdout=out)
    assert "Usage records added" not in out.getvalue()
    assert UsageRecord.objects.filter(org=org).count() == 200
