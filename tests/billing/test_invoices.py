"""Invoices: usage rolled exactly once, totals equal ledger sums, finalized ones frozen."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoicedUsage,
    InvoiceLine,
    LedgerEntry,
    UsageRecord,
)
from billing.services.invoices import (
    change_invoice,
    finalize_due_invoices,
    roll_usage_into_invoices,
)
from billing.services.ledger import grant_promotional_credit
from billing.tasks.invoicing import roll_usage_into_invoices as roll_task
from core.errors import Conflict

pytestmark = pytest.mark.django_db

JAN_10 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def ledger_charge_total(invoice) -> int:
    """What the ledger says the invoiced requests drew from the wallet."""
    request_ids = UsageRecord.objects.filter(invoiced__invoice=invoice).values("request_id")
    total = LedgerEntry.objects.filter(
        org_id=invoice.org_id,
        account__kind="wallet",
        transaction__kind="charge",
        transaction__idempotency_key__in=request_ids,
    ).aggregate(total=Sum("amount_nanos"))["total"]
    return -(total or 0)


def test_roll_groups_lines_and_matches_the_ledger(org, charge_request):
    grant_promotional_credit(org, 10**10, memo="", idempotency_key="start")
    for upstream in (1_000_001, 2_000_003, 3_000_005):
        charge_request(org, upstream_nanos=upstream, model="openai/gpt-4o-mini")
    charge_request(
        org, upstream_nanos=7_777, model="anthropic/claude", provider="sandbox-anthropic"
    )
    charge_request(org, upstream_nanos=1_000_000, byok=True, provider="sandbox-anthropic",
                   model="anthropic/claude")

    assert roll_task() == 5  # posts the usage first, then rolls it
    assert roll_task() == 0

    invoice = Invoice.objects.get(org=org)
    assert invoice.requests == 5
    assert InvoicedUsage.objects.filter(invoice=invoice).count() == 5
    usage = InvoiceLine.objects.get(invoice=invoice, kind="usage", model="openai/gpt-4o-mini")
    assert usage.requests == 3
    assert usage.upstream_cost_nanos == 6_000_009
    # 550 bps each, rounded half up per record: 55000.055 -> 55000, 110000.165 -> 110000, ...
    assert usage.margin_nanos == 55_000 + 110_000 + 165_000
    assert usage.amount_nanos == 6_000_009 + 330_000
    byok = InvoiceLine.objects.get(invoice=invoice, kind="byok_fee")
    assert (byok.byok_fee_nanos, byok.amount_nanos) == (50_000, 50_000)
    assert invoice.charge_nanos == ledger_charge_total(invoice)
    assert invoice.charge_nanos == sum(
        InvoiceLine.objects.filter(invoice=invoice).values_list("amount_nanos", flat=True)
    )


def test_finalize_numbers_gaplessly_and_freezes(make_org, charge_request):
    orgs = [make_org(legal_name=f"Legal {i}", tax_id=f"TAX{i}") for i in range(3)]
    for org in orgs:
        grant_promotional_credit(org, 10**10, memo="", idempotency_key="start")
        charge_request(org, upstream_nanos=123_456_789)
    roll_task()
    feb = datetime(2099, 2, 1, 2, tzinfo=UTC)  # every open period has ended by then

    finalized = finalize_due_invoices(now=feb)
    assert finalize_due_invoices(now=feb) == []

    numbers = sorted(Invoice.objects.filter(pk__in=finalized).values_list("number", flat=True))
    assert numbers == [1, 2, 3]
    assert InvoiceCounter.objects.get(issuer="SY").last_number == 3
    invoice = Invoice.objects.get(org=orgs[1])
    assert (invoice.status, invoice.legal_name, invoice.tax_id) == ("finalized", "Legal 1", "TAX1")
    credit = InvoiceLine.objects.get(invoice=invoice, kind="credit")
    assert credit.amount_nanos == 10**10 == invoice.credits_nanos
    with pytest.raises(Conflict):
        change_invoice(invoice, charge_nanos=0)
    assert Invoice.objects.get(pk=invoice.pk).charge_nanos == ledger_charge_total(invoice)


def test_usage_after_finalization_goes_to_the_next_open_invoice(org, charge_request):
    grant_promotional_credit(org, 10**10, memo="", idempotency_key="start")
    first = charge_request(org, upstream_nanos=1_000)
    roll_task()
    old = Invoice.objects.get(org=org)
    finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
    late = charge_request(org, upstream_nanos=2_000)
    UsageRecord.objects.filter(pk=late.pk).update(created_at=first.created_at)

    roll_usage_into_invoices()  # only posted usage rolls
    assert not InvoicedUsage.objects.filter(usage_record=late).exists()
    roll_task()  # posts, then rolls into the next open period, since the old one is final
    link = InvoicedUsage.objects.get(usage_record=late)
    assert link.invoice.period_start == old.period_end
    assert link.invoice.status == "open"
    assert Invoice.objects.get(pk=old.pk).requests == 1


@pytest.mark.postgres
def test_postgres_refuses_changes_to_a_finalized_invoice(org, charge_request):
    grant_promotional_credit(org, 10**10, memo="", idempotency_key="start")
    charge_request(org, upstream_nanos=1_000)
    roll_task()
    finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
    invoice = Invoice.objects.get(org=org)
    line = InvoiceLine.objects.filter(invoice=invoice).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(charge_nanos=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(amount_nanos=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(invoice=invoice, org=org, kind="credit", provider="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoicedUsage.objects.filter(invoice=invoice).delete()
    assert Invoice.objects.get(pk=invoice.pk).charge_nanos == invoice.charge_nanos
