"""Billing's audited actions: promotional credit, top-ups credited, refunds and disputes,
invoice downloads, margin rules. One entry each, in the change's transaction; none on failure
or on a repeat that changes nothing."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing.models import Invoice, MarginRule, TopUp, Wallet
from billing.services.ledger import ensure_wallet, grant_promotional_credit
from billing.services.margins import save_margin_rule
from core.errors import Conflict, InvalidRequest
from marketplace.tenancy.models import AuditEntry, Membership, Role
from tests.billing.billing_stripe_events import sign_event
from tests.compliance.audit_support import entries, only
from tests.staff import sign_in_with_mfa, staff_user
from tests.tenancy.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

CENT = 10_000_000  # nanos
STRIPE_ADDRESS = "198.51.100.9"


@pytest.fixture
def org():
    org = OrganizationFactory()
    ensure_wallet(org)
    return org


# --- promotional credit ---------------------------------------------------------------------


def test_staff_grant_in_the_admin_is_one_entry_naming_the_staff_user(org):
    client = sign_in_with_mfa(Client(), staff_user(operator=False, is_superuser=True))
    staff = get_user_model().objects.get(is_staff=True)
    wallet = Wallet.objects.get(org=org)
    url = f"/admin/billing/wallet/{wallet.pk}/grant-credit/"
    key = client.get(url).context["form"].initial["idempotency_key"]
    data = {"amount_usd": "12.34", "memo": "conference", "idempotency_key": key}

    assert client.post(url, data, REMOTE_ADDR="192.0.2.10").status_code == 302
    assert client.post(url, data).status_code == 302  # a double submit credits once

    entry = only(org, action="promotional_credit.granted")
    assert (entry.actor_user_id, entry.actor_label, entry.client_ip) == (
        staff.pk, staff.email, "192.0.2.10")
    assert entry.target_type == "billing.ledgertransaction"
    assert entry.after == {"amount_nanos": 1234 * CENT, "memo": "conference"}


def test_a_refused_or_repeated_grant_writes_nothing(org):
    grant_promotional_credit(org, 100, memo="", idempotency_key="once")
    count = AuditEntry.objects.count()
    with pytest.raises(InvalidRequest):
        grant_promotional_credit(org, 0, memo="", idempotency_key="zero")
    with pytest.raises(Conflict):  # the same key with another amount
        grant_promotional_credit(org, 200, memo="", idempotency_key="once")
    grant_promotional_credit(org, 100, memo="", idempotency_key="once")  # a repeat: no-op
    assert AuditEntry.objects.count() == count
    assert only(org, action="promotional_credit.granted").actor_label == "system"


# --- top-ups, refunds, disputes (Stripe's signed webhook) ----------------------------------


@pytest.fixture
def stripe_webhook(settings, client):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_audit_test"

    def send(event_type: str, obj: dict):
        event = {"id": f"evt_{event_type}_{obj.get('id')}", "object": "event",
                 "type": event_type, "data": {"object": obj}}
        payload, header = sign_event(event, settings.STRIPE_WEBHOOK_SECRET)
        return client.post("/billing/stripe/webhook/", data=payload,
                           content_type="application/json", HTTP_STRIPE_SIGNATURE=header,
                           REMOTE_ADDR=STRIPE_ADDRESS)

    return send


def _paid(org, top_up):
    return {"id": top_up.payment_intent_id, "object": "payment_intent",
            "amount": top_up.amount_cents, "currency": "usd", "status": "succeeded",
            "latest_charge": f"ch_{top_up.pk}",
            "metadata": {"org_id": str(org.pk), "purpose": "wallet_top_up"}}


def test_a_credited_top_up_is_one_entry_by_whoever_started_it(org, stripe_webhook):
    user = UserFactory()
    top_up = TopUp.objects.create(org=org, payment_intent_id="pi_audit_1", amount_cents=2_500,
                                  created_by=user)
    for _ in range(3):  # Stripe delivers more than once
        assert stripe_webhook("payment_intent.succeeded", _paid(org, top_up)).status_code == 200

    entry = only(org, action="top_up.credited")
    assert (entry.actor_user_id, entry.target_type, entry.target_id, entry.target_label) == (
        user.pk, "billing.topup", str(top_up.pk), "pi_audit_1")
    assert entry.before == {"status": "pending"}
    assert entry.after == {"status": "succeeded", "amount_cents": 2_500,
                           "credited_nanos": 2_500 * CENT}
    # The request was Stripe's: its address is not the user's, so none is recorded.
    assert entry.client_ip is None


def test_a_mismatched_payment_credits_nothing_and_records_nothing(org, stripe_webhook):
    top_up = TopUp.objects.create(org=org, payment_intent_id="pi_audit_2", amount_cents=2_500)
    wrong = {**_paid(org, top_up), "amount": 9_999}
    assert stripe_webhook("payment_intent.succeeded", wrong).json()["outcome"] == "mismatch"
    assert entries(org) == []


def test_refunds_and_disputes_are_one_entry_each(org, stripe_webhook):
    top_up = TopUp.objects.create(org=org, payment_intent_id="pi_audit_3", amount_cents=1_000)
    stripe_webhook("payment_intent.succeeded", _paid(org, top_up))
    charge = f"ch_{top_up.pk}"
    refund = {"id": charge, "object": "charge", "payment_intent": "pi_audit_3", "amount": 1_000,
              "amount_refunded": 300}
    for _ in range(2):
        assert stripe_webhook("charge.refunded", refund).status_code == 200
    refunded = only(org, action="top_up.refunded")
    assert (refunded.actor_label, refunded.before, refunded.after) == (
        "system", {"refunded_cents": 0, "reversed_cents": 0},
        {"refunded_cents": 300, "reversed_cents": 300})

    dispute = {"id": "dp_audit", "object": "dispute", "amount": 1_000, "charge": charge,
               "payment_intent": "pi_audit_3", "status": "needs_response"}
    stripe_webhook("charge.dispute.created", dispute)
    stripe_webhook("charge.dispute.created", dispute)
    disputed = only(org, action="top_up.disputed")
    assert disputed.before == {"disputed_cents": 0, "reversed_cents": 300}
    assert disputed.after == {"dispute": "dp_audit", "dispute_status": "open",
                              "dispute_cents": 1_000, "disputed_cents": 1_000,
                              "reversed_cents": 1_000}

    stripe_webhook("charge.dispute.closed", {**dispute, "status": "won"})
    stripe_webhook("charge.dispute.closed", {**dispute, "status": "won"})
    closed = only(org, action="top_up.dispute_closed")
    assert closed.before == {"disputed_cents": 1_000, "reversed_cents": 1_000,
                             "dispute_status": "open"}
    assert closed.after == {"dispute": "dp_audit", "dispute_status": "won",
                            "disputed_cents": 0, "reversed_cents": 300}
    assert Wallet.objects.get(org=org).balance_nanos == 700 * CENT


def test_a_refund_before_the_credit_is_deferred_and_records_nothing(org, stripe_webhook):
    TopUp.objects.create(org=org, payment_intent_id="pi_audit_4", amount_cents=1_000)
    refund = {"id": "ch_x", "object": "charge", "payment_intent": "pi_audit_4", "amount": 1_000,
              "amount_refunded": 1_000}
    assert stripe_webhook("charge.refunded", refund).status_code == 409
    assert entries(org) == []


# --- invoice downloads ----------------------------------------------------------------------


def _member_client(org, role):
    user = UserFactory()
    Membership.objects.create(org=org, user=user, role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_each_invoice_download_is_one_entry(org):
    invoice = Invoice.objects.create(org=org, period_start=datetime(2026, 10, 1, tzinfo=UTC),
                                     period_end=datetime(2026, 11, 1, tzinfo=UTC), issuer="SY")
    user, client = _member_client(org, Role.FINANCE)

    pdf = client.get(f"/billing/invoices/{invoice.pk}/pdf/", REMOTE_ADDR="192.0.2.20")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    lines = client.get(f"/billing/invoices/{invoice.pk}/lines.csv")
    assert list(csv.reader(io.StringIO(b"".join(lines.streaming_content).decode())))[0][0] == (
        "invoice")
    assert client.get(f"/billing/invoices/{invoice.pk}/usage.csv").status_code == 200

    got = entries(org, action="invoice.downloaded")
    assert [e.after["format"] for e in got] == ["pdf", "lines.csv", "usage.csv"]
    assert {(e.actor_user_id, e.target_type, e.target_id, e.target_label) for e in got} == {
        (user.pk, "billing.invoice", str(invoice.pk), invoice.display_number)}
    assert got[0].client_ip == "192.0.2.20"


def test_a_refused_or_missing_invoice_download_writes_nothing(org):
    invoice = Invoice.objects.create(org=org, period_start=datetime(2026, 10, 1, tzinfo=UTC),
                                     period_end=datetime(2026, 11, 1, tzinfo=UTC), issuer="SY")
    _, developer = _member_client(org, Role.DEVELOPER)
    other = OrganizationFactory()
    _, outsider = _member_client(other, Role.OWNER)
    assert developer.get(f"/billing/invoices/{invoice.pk}/lines.csv").status_code == 403
    assert outsider.get(f"/billing/invoices/{invoice.pk}/lines.csv").status_code == 404
    assert AuditEntry.objects.filter(action="invoice.downloaded").count() == 0


# --- margin rules ---------------------------------------------------------------------------


@pytest.fixture
def staff_client():
    return sign_in_with_mfa(Client(), staff_user(operator=False, is_superuser=True))


def test_margin_rules_in_the_admin_platform_wide_and_per_org(org, staff_client):
    staff = get_user_model().objects.get(is_staff=True)
    assert staff_client.post("/admin/billing/marginrule/add/", {
        "org": "", "model_slug": "openai/gpt-4o", "provider_slug": "", "bps": 700, "note": "",
    }).status_code == 302
    platform = MarginRule.objects.get(org__isnull=True, model_slug="openai/gpt-4o")
    created = only(action="margin_rule.created", platform=True)
    assert (created.org_id, created.actor_user_id, created.target_id) == (
        None, staff.pk, str(platform.pk))
    assert created.after == {"org_id": None, "model_slug": "openai/gpt-4o", "provider_slug": "",
                             "bps": 700, "note": ""}

    assert staff_client.post(f"/admin/billing/marginrule/{platform.pk}/change/", {
        "org": "", "model_slug": "openai/gpt-4o", "provider_slug": "", "bps": 650, "note": "",
    }).status_code == 302
    updated = only(action="margin_rule.updated", platform=True)
    assert (updated.before, updated.after) == ({"bps": 700}, {"bps": 650})

    # An org's contract rule is in that org's own log.
    assert staff_client.post("/admin/billing/marginrule/add/", {
        "org": org.pk, "model_slug": "", "provider_slug": "", "bps": 100, "note": "contract",
    }).status_code == 302
    contract = MarginRule.objects.get(org=org)
    assert only(org, action="margin_rule.created").after["bps"] == 100

    assert staff_client.post(f"/admin/billing/marginrule/{contract.pk}/delete/",
                             {"post": "yes"}).status_code == 302
    deleted = only(org, action="margin_rule.deleted")
    assert (deleted.target_id, deleted.before["bps"], deleted.after) == (
        str(contract.pk), 100, None)
    assert not MarginRule.objects.filter(pk=contract.pk).exists()


def test_a_refused_margin_rule_writes_nothing(org):
    save_margin_rule(MarginRule(org=org, bps=100), actor=None)
    count = AuditEntry.objects.count()
    with pytest.raises((InvalidRequest, Conflict)):  # the same scope twice
        save_margin_rule(MarginRule(org=org, bps=200), actor=None)
    assert AuditEntry.objects.count() == count
    MarginRule.objects.get_or_create(org=None, model_slug="", provider_slug="",
                                     defaults={"bps": 550})  # migration 0011's seed
    with pytest.raises(InvalidRequest):  # a second platform default
        save_margin_rule(MarginRule(org=None, bps=200), actor=None)
    assert AuditEntry.objects.count() == count
    assert MarginRule.objects.get(org=org).bps == 100
