"""Vendors' sponsored-listing charges: one conditional wallet debit per event key, posted to the
ledger in batches exactly once (wallet to sponsored-listing revenue), counted by the wallet
check while unposted, and stated on the vendor's invoices per model and campaign."""

import re
import threading
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from billing.models import (
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerTransaction,
    LineKind,
    SponsoredCharge,
    Wallet,
)
from billing.selectors.invoices import list_invoice_rows
from billing.services.invoices import finalize_due_invoices
from billing.services.ledger import check_wallet_consistency, grant_promotional_credit
from billing.services.sponsored import charge_sponsored, post_sponsored_charges
from billing.tasks.invoicing import finalize_invoices, roll_usage_into_invoices
from billing.tasks.sponsored import post_sponsored_to_ledger
from core.errors import InsufficientCredits
from core.money import dashboard_usd_exact

pytestmark = pytest.mark.django_db
USD = 1_000_000_000
OCT = datetime(2026, 10, 14, 9, 30, tzinfo=UTC)


def charge(org, key, amount, *, model="acme/fast", campaign="7", event="impression",
           description="Autumn push (per thousand impressions)", now=OCT):
    with transaction.atomic():
        return charge_sponsored(
            org_id=org.pk, amount_nanos=amount, idempotency_key=key, event=event,
            campaign_ref=campaign, description=description, model=model,
            placement="catalog", now=now,
        )


def balance(org):
    return Wallet.objects.get(org=org).balance_nanos


def test_a_charge_debits_the_wallet_once_per_key(org):
    grant_promotional_credit(org, USD, memo="", idempotency_key="start")
    assert charge(org, "event-1", 2_000_000) is True
    assert charge(org, "event-1", 2_000_000) is False  # the same event again
    assert balance(org) == USD - 2_000_000
    assert SponsoredCharge.objects.filter(org=org).count() == 1
    report = check_wallet_consistency(org)
    assert report.ok and report.unposted_sponsored_nanos == 2_000_000


def test_a_wallet_that_cannot_pay_is_refused_and_nothing_remains(org):
    grant_promotional_credit(org, 5_000_000, memo="", idempotency_key="start")
    Wallet.objects.filter(org=org).update(held_nanos=2_000_000)  # an open hold reserves some
    with transaction.atomic():
        assert charge(org, "fits", 3_000_000)
        with pytest.raises(InsufficientCredits):
            charge(org, "too-much", 1)
        # The caller's transaction goes on; the refused charge left nothing behind.
        assert not SponsoredCharge.objects.filter(idempotency_key="too-much").exists()
    assert balance(org) == 2_000_000


def test_the_credit_limit_lets_the_balance_go_below_zero_up_to_it(org):
    Wallet.objects.filter(org=org).update(credit_limit_nanos=1_000_000)
    assert charge(org, "on-credit", 1_000_000)
    with pytest.raises(InsufficientCredits):
        charge(org, "past-the-limit", 1)
    assert balance(org) == -1_000_000


@pytest.mark.django_db(transaction=True)  # no test-wide transaction around the first call
def test_a_charge_needs_the_callers_transaction_and_a_positive_amount(org):
    with pytest.raises(RuntimeError):
        charge_sponsored(org_id=org.pk, amount_nanos=1, idempotency_key="k", event="click",
                         campaign_ref="1", description="", model="m", placement="catalog",
                         now=OCT)
    with pytest.raises(ValueError):
        charge(org, "zero", 0)
    with pytest.raises(ValueError):
        charge(org, "x" * 191, 1)


def test_posting_writes_balanced_sponsored_transactions_once(make_org):
    orgs = [make_org() for _ in range(2)]
    amounts = {}
    for i, org in enumerate(orgs):
        grant_promotional_credit(org, USD, memo="", idempotency_key="start")
        for n in range(7):
            amounts[(org.pk, f"ev-{n}")] = 1_000_003 * (n + 1) + i
            charge(org, f"ev-{n}", amounts[(org.pk, f"ev-{n}")],
                   event="click" if n % 3 == 0 else "impression")
    balances = {org.pk: balance(org) for org in orgs}

    assert post_sponsored_to_ledger(batch_size=3) == 14
    assert post_sponsored_charges() == 0  # rerun: nothing left

    txns = LedgerTransaction.objects.filter(kind="sponsored")
    assert txns.count() == 14
    for txn in txns:
        entries = list(LedgerEntry.objects.filter(transaction=txn).select_related("account"))
        assert sum(e.amount_nanos for e in entries) == 0
        assert sorted(e.account.kind for e in entries) == ["sponsored_revenue", "wallet"]
        key = txn.idempotency_key.removeprefix("sponsored:")
        assert txn.wallet_delta_nanos == -amounts[(txn.org_id, key)]
        assert txn.created_at == OCT
    revenue = LedgerEntry.objects.filter(account__kind="sponsored_revenue").aggregate(
        t=Sum("amount_nanos"))["t"]
    assert revenue == sum(amounts.values())
    for org in orgs:
        assert balance(org) == balances[org.pk]  # posting never moves the balance again
        report = check_wallet_consistency(org)
        assert report.ok and report.unposted_sponsored_nanos == 0
    assert not SponsoredCharge.objects.filter(posted_at__isnull=True).exists()


def test_a_posting_run_killed_midway_posts_nothing_and_a_rerun_posts_all(org):
    grant_promotional_credit(org, USD, memo="", idempotency_key="start")
    for n in range(5):
        charge(org, f"ev-{n}", 1_000_000)
    with mock.patch("billing.services.sponsored.LedgerEntry.objects.bulk_create",
                    side_effect=RuntimeError("worker killed")), pytest.raises(RuntimeError):
        post_sponsored_charges(batch_size=10)
    assert SponsoredCharge.objects.filter(posted_at__isnull=True).count() == 5
    assert not LedgerTransaction.objects.filter(kind="sponsored").exists()
    assert check_wallet_consistency(org).ok
    assert post_sponsored_charges(batch_size=2) == 5
    assert check_wallet_consistency(org).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_runs_post_each_charge_once(make_org):
    orgs = [make_org() for _ in range(3)]
    for org in orgs:
        grant_promotional_credit(org, USD, memo="", idempotency_key="start")
    for i in range(90):
        charge(orgs[i % 3], f"ev-{i}", 1_000 + i)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(post_sponsored_charges(batch_size=4))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(results) == 90
    assert LedgerTransaction.objects.filter(kind="sponsored").count() == 90
    for org in orgs:
        assert check_wallet_consistency(org).ok


def test_finalized_invoice_states_sponsored_lines_per_model_and_campaign(org, charge_request):
    grant_promotional_credit(org, 10 * USD, memo="", idempotency_key="start")
    charge(org, "a1", 2_000_000, campaign="7")
    charge(org, "a2", 2_000_000, campaign="7", now=OCT.replace(day=20))
    charge(org, "a3", 500_000_000, campaign="7", event="click")
    charge(org, "b1", 3_000_000, campaign="9", model="acme/slow", description="Slow and steady")
    charge(org, "nov", 1_000_000, campaign="7", now=datetime(2026, 11, 2, tzinfo=UTC))

    finalize_invoices.apply()  # posts the pending charges first, then finalizes due periods
    # (the October invoice exists though the vendor made no API request: posting opened it)
    finalize_due_invoices(now=datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    invoice = Invoice.objects.get(org=org, period_start=datetime(2026, 10, 1, tzinfo=UTC))
    assert invoice.status == "finalized"
    lines = {(line.model, line.provider): line for line in
             InvoiceLine.objects.filter(invoice=invoice, kind=LineKind.SPONSORED)}
    assert set(lines) == {("acme/fast", "7"), ("acme/slow", "9")}
    assert lines[("acme/fast", "7")].amount_nanos == 504_000_000
    assert lines[("acme/fast", "7")].description == (
        "Autumn push (per thousand impressions) (2 billed impressions, 1 billed click)")
    assert lines[("acme/slow", "9")].amount_nanos == 3_000_000
    assert invoice.sponsored_nanos == 507_000_000
    ledger = -LedgerEntry.objects.filter(
        org=org, account__kind="wallet", transaction__kind="sponsored",
        transaction__created_at__gte=invoice.period_start,
        transaction__created_at__lt=invoice.period_end,
    ).aggregate(t=Sum("amount_nanos"))["t"]
    assert invoice.sponsored_nanos == ledger
    assert invoice.charge_nanos == 0  # usage charges stay their own figure


def test_the_draft_invoice_shows_sponsored_spend_so_far(org, member_client, charge_request):
    grant_promotional_credit(org, 10 * USD, memo="", idempotency_key="start")
    now = datetime.now(UTC)
    usage = charge_request(org, upstream_nanos=1_000_000)
    charge(org, "d1", 2_000_000, now=now)
    charge(org, "d2", 3_000_000, now=now, event="click")
    expected = usage.charge_nanos + 5_000_000
    row = next(r for r in list_invoice_rows(org) if r.running)
    assert row.charge_nanos == expected

    post_sponsored_charges()  # opens this month's invoice; its lines come at finalization
    invoice = Invoice.objects.get(org=org)
    client = member_client(org, "finance")
    page = client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert "Sponsored listings: acme/fast" in page
    assert "1 billed impression, 1 billed click" in page
    assert re.search(r'id="invoice-sponsored"><th colspan="8">Sponsored listings \(exact\), '
                     r'so far</th><td class="num">' + re.escape(dashboard_usd_exact(5_000_000)),
                     page)
    assert f'id="invoice-total" title="{dashboard_usd_exact(expected)}"' in page
    csv = b"".join(client.get(f"/billing/invoices/{invoice.pk}/lines.csv").streaming_content)
    assert re.search(rf"{invoice.display_number},sponsored,acme/fast,7,.*,5000000,"
                     .encode(), csv)


def test_a_charge_not_yet_posted_at_finalization_is_still_invoiced(org, charge_request):
    grant_promotional_credit(org, USD, memo="", idempotency_key="start")
    charge_request(org, upstream_nanos=1_000)
    roll_usage_into_invoices.apply()  # usage opens this month's invoice
    invoice = Invoice.objects.get(org=org)
    charge(org, "late", 7_000_000, now=invoice.period_start)
    finalize_due_invoices(now=invoice.period_end.replace(hour=5))  # no posting run before it
    invoice.refresh_from_db()
    assert invoice.status == "finalized" and invoice.sponsored_nanos == 7_000_000
    post_sponsored_charges()
    assert LedgerTransaction.objects.get(org=org, kind="sponsored").created_at \
        == invoice.period_start
    assert check_wallet_consistency(org).ok
