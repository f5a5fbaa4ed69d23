"""Billing dashboard pages: roles, other orgs' ids, downloads, the Stripe-off notice."""

import csv
import io

import pytest

from billing.models import InvoiceLine, UsageRecord

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_only_billing_roles_see_billing_pages(org, member_client, finalized_invoice, role):
    invoice = finalized_invoice(org)
    client = member_client(org, role)
    for url in ("/billing/wallet/", "/billing/invoices/", f"/billing/invoices/{invoice.pk}/",
                f"/billing/invoices/{invoice.pk}/pdf/", "/billing/usage/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["owner", "admin", "finance"])
def test_billing_roles_see_invoices(org, member_client, finalized_invoice, role):
    invoice = finalized_invoice(org)
    page = member_client(org, role).get(f"/billing/invoices/{invoice.pk}/")
    assert page.status_code == 200
    assert invoice.display_number.encode() in page.content


def test_another_orgs_invoice_is_404(org, make_org, member_client, finalized_invoice):
    theirs = finalized_invoice(make_org())
    client = member_client(org, "owner")
    for suffix in ("", "pdf/", "lines.csv", "usage.csv"):
        assert client.get(f"/billing/invoices/{theirs.pk}/{suffix}").status_code == 404
    assert client.get("/billing/invoices/999999/").status_code == 404


def test_invoice_downloads(make_org, member_client, finalized_invoice):
    org = make_org(legal_name="Acme Holdings GmbH", billing_address="Hauptstr. 1\nBerlin",
                   tax_id="DE123456789")
    invoice = finalized_invoice(org)
    client = member_client(org, "finance")

    pdf = client.get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    detail = client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert "Acme Holdings GmbH" in detail and "DE123456789" in detail

    lines = list(csv.DictReader(io.StringIO(
        b"".join(client.get(f"/billing/invoices/{invoice.pk}/lines.csv").streaming_content)
        .decode())))
    assert len(lines) == InvoiceLine.objects.filter(invoice=invoice).count() == 3
    usage_line = next(row for row in lines if row["kind"] == "usage")
    assert int(usage_line["amount_nanos"]) == 1_234_567_891 + 67_901_234  # 550 bps, half up

    usage = list(csv.DictReader(io.StringIO(
        b"".join(client.get(f"/billing/invoices/{invoice.pk}/usage.csv").streaming_content)
        .decode())))
    assert sorted(row["request_id"] for row in usage) == sorted(
        UsageRecord.objects.filter(org=org).values_list("request_id", flat=True))


def test_wallet_page_without_stripe_says_contact_support_and_names_no_setting(
        org, member_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = member_client(org, "owner").get("/billing/wallet/").content.decode()
    assert "Top-ups are not available yet; contact support" in page
    assert "STRIPE_" not in page and "localstripe" not in page and "webhook" not in page
    assert 'id="topup-form"' not in page


def test_wallet_page_with_stripe_loads_the_configured_stripe_js(org, member_client, stripe_on):
    page = member_client(org, "admin").get("/billing/wallet/").content.decode()
    assert f'<script src="{stripe_on.url}/js.stripe.com/v3/"></script>' in page
    assert 'id="topup-form"' in page and "Top-ups are not available" not in page


def test_top_up_creation_is_refused_without_stripe(org, member_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = member_client(org, "owner").post("/billing/wallet/top-up/", {"amount": "25"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "top_ups_disabled"


def test_usage_page_filters(org, member_client, charge_request):
    from billing.services.ledger import grant_promotional_credit

    grant_promotional_credit(org, 10**10, memo="", idempotency_key="s")
    charge_request(org, upstream_nanos=1000, model="openai/gpt-4o", provider="sandbox-openai")
    charge_request(org, upstream_nanos=1000, model="google/gemini", provider="sandbox-google")
    client = member_client(org, "finance")
    page = client.get("/billing/usage/", {"provider": "sandbox-google"}).content.decode()
    assert "google/gemini" in page and "openai/gpt-4o" not in page


def test_receipts_for_credited_top_ups(org, make_org, member_client):
    from billing.models import TopUp
    from billing.services.webhooks import handle_event

    top_up = TopUp.objects.create(org=org, payment_intent_id="pi_receipt", amount_cents=4_250)
    handle_event({"type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_receipt", "amount": 4_250, "currency": "usd", "status": "succeeded",
        "metadata": {"org_id": str(org.pk)}, "latest_charge": "ch_r"}}})
    client = member_client(org, "finance")
    html = client.get(f"/billing/wallet/top-ups/{top_up.pk}/receipt/").content.decode()
    assert "$42.50" in html and "pi_receipt" in html
    pdf = client.get(f"/billing/wallet/top-ups/{top_up.pk}/receipt/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    outsider = member_client(make_org(), "owner")
    assert outsider.get(f"/billing/wallet/top-ups/{top_up.pk}/receipt/").status_code == 404
