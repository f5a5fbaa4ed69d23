"""The management API's billing endpoints: org-scoped, role-checked, filtered."""

import pytest

from billing.services.ledger import grant_promotional_credit
from marketplace.tenancy.key_services import create_api_key
from marketplace.tenancy.roles import Actor

pytestmark = pytest.mark.django_db


def org_key(org, scope: str) -> str:
    _, plaintext = create_api_key(org=org, name=scope, actor=Actor(role="owner"), scope=scope)
    return plaintext


def test_invoices_list_and_detail(org, member_client, finalized_invoice):
    invoice = finalized_invoice(org)
    client = member_client(org, "finance")
    listing = client.get("/api/v1/billing/invoices/").json()
    assert [row["id"] for row in listing["results"]] == [invoice.pk]
    assert listing["results"][0]["charge_nanos"] == invoice.charge_nanos
    detail = client.get(f"/api/v1/billing/invoices/{invoice.pk}/").json()
    assert detail["number"] == invoice.display_number
    assert sum(line["amount_nanos"] for line in detail["lines"] if line["kind"] in (
        "usage", "byok_fee")) == invoice.charge_nanos


def test_other_orgs_invoice_is_404_and_developer_is_403(org, make_org, member_client,
                                                        finalized_invoice):
    theirs = finalized_invoice(make_org())
    assert member_client(org, "owner").get(
        f"/api/v1/billing/invoices/{theirs.pk}/").status_code == 404
    assert member_client(org, "developer").get("/api/v1/billing/invoices/").status_code == 403


def test_wallet_and_transactions(org, member_client):
    grant_promotional_credit(org, 3_000_000_000, memo="hello", idempotency_key="g1")
    client = member_client(org, "admin")
    assert client.get("/api/v1/billing/wallet/").json()["balance_nanos"] == 3_000_000_000
    rows = client.get("/api/v1/billing/wallet/transactions/", {"kind": "promotional_credit"})
    assert [(r["amount_nanos"], r["memo"]) for r in rows.json()["results"]] == [
        (3_000_000_000, "hello")]
    assert client.get("/api/v1/billing/wallet/transactions/",
                      {"kind": "top_up"}).json()["results"] == []


def test_usage_filters(org, member_client, charge_request):
    grant_promotional_credit(org, 10**10, memo="", idempotency_key="s")
    a = charge_request(org, upstream_nanos=1000, model="openai/gpt-4o", provider="p-one")
    b = charge_request(org, upstream_nanos=1000, model="google/gemini", provider="p-two")
    client = member_client(org, "owner")

    def ids(**params):
        return [r["request_id"] for r in client.get("/api/v1/billing/usage/", params)
                .json()["results"]]

    assert sorted(ids()) == sorted([a.request_id, b.request_id])
    assert ids(provider="p-two") == [b.request_id]
    assert ids(model="openai/gpt-4o") == [a.request_id]
    assert ids(key=a.api_key_id) == [b.request_id, a.request_id]
    assert ids(since="2000-01-01", until="2000-01-31") == []


def test_management_keys_read_their_own_org_and_inference_keys_are_refused(
    org, make_org, client, finalized_invoice
):
    invoice = finalized_invoice(org)
    theirs = finalized_invoice(make_org())
    auth = {"HTTP_AUTHORIZATION": f"Bearer {org_key(org, 'management')}"}
    listing = client.get("/api/v1/billing/invoices/", **auth).json()
    assert [row["id"] for row in listing["results"]] == [invoice.pk]
    assert client.get(f"/api/v1/billing/invoices/{theirs.pk}/", **auth).status_code == 404
    inference = {"HTTP_AUTHORIZATION": f"Bearer {org_key(org, 'inference')}"}
    assert client.get("/api/v1/billing/invoices/", **inference).status_code == 403
