"""Invoices: roll posted usage into each org's open monthly invoice, then finalize at period end.

Exactly once, whatever the kills and reruns: a batch of usage records is claimed with SKIP
LOCKED, and its `InvoicedUsage` links (unique per usage record), line increments and invoice
totals commit in one transaction, so a batch is either wholly rolled or not at all. Only usage
already posted to the ledger is rolled, which keeps invoice totals equal to ledger sums.

Finalizing numbers the invoice gaplessly per issuer (a counter row locked FOR UPDATE in the
same transaction), adds the period's top-ups, credits and reversals from the ledger and a
vendor's sponsored-listing charges (one line per model and campaign), freezes the org's
billing details, and makes the invoice immutable (Conflict here; triggers on PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoicedUsage,
    InvoiceLine,
    InvoiceStatus,
    LedgerTransaction,
    LineKind,
    TransactionKind,
    UsageRecord,
)
from billing.selectors.sponsored import sponsored_spend
from core.errors import Conflict
from marketplace.tenancy.audit import record_audit

# Finalize only once a period has been over this long, so late settlements are rolled first.
FINALIZE_GRACE = timedelta(hours=1)


def period_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) containing `moment`: [start, end)."""
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@dataclass
class _LineSum:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    upstream_cost_nanos: int = 0
    margin_nanos: int = 0
    byok_fee_nanos: int = 0
    write_off_nanos: int = 0
    amount_nanos: int = 0

    def add(self, record: UsageRecord) -> None:
        self.requests += 1
        self.prompt_tokens += (
            record.prompt_tokens + record.cache_read_tokens + record.cache_write_tokens
        )
        self.completion_tokens += record.completion_tokens + record.reasoning_tokens
        self.upstream_cost_nanos += record.upstream_cost_nanos
        self.margin_nanos += record.margin_nanos
        self.byok_fee_nanos += record.byok_fee_nanos
        self.write_off_nanos += record.write_off_nanos
        self.amount_nanos += record.charge_nanos


@dataclass
class _InvoiceBatch:
    invoice: Invoice
    lines: dict[tuple[str, str, str], _LineSum] = field(
        default_factory=lambda: defaultdict(_LineSum)
    )
    record_ids: list[int] = field(default_factory=list)


def roll_usage_batch(*, batch_size: int = 1000) -> int:
    """Roll one batch of posted, not yet invoiced usage records; return how many."""
    with transaction.atomic():
        records = list(
            UsageRecord.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(posted_at__isnull=False, invoiced__isnull=True)
            .order_by("id")[:batch_size]
        )
        if not records:
            return 0
        batches: dict[int, _InvoiceBatch] = {}
        invoices: dict[tuple[int, datetime], Invoice] = {}
        for record in records:
            period_start, _ = period_bounds(record.created_at)
            key = (record.org_id, period_start)
            if key not in invoices:
                invoices[key] = _open_invoice_for(record.org_id, record.created_at)
            invoice = invoices[key]
            batch = batches.setdefault(invoice.pk, _InvoiceBatch(invoice))
            kind = LineKind.BYOK_FEE if record.is_byok else LineKind.USAGE
            model = record.served_model or record.requested_model
            batch.lines[(kind, model, record.provider_slug)].add(record)
            batch.record_ids.append(record.pk)
        for batch in batches.values():
            _apply(batch)
    return len(records)


def _open_invoice_for(org_id: int, created_at: datetime) -> Invoice:
    """The open invoice for a record's period, locked.

    A record settled after its period was finalized rolls into the first open period after
    it (normally the current one), so nothing is ever lost or added to a frozen invoice.
    """
    start, end = period_bounds(created_at)
    for _ in range(240):  # twenty years of finalized months would be a bug, not data
        invoice, _ = Invoice.objects.get_or_create(
            org_id=org_id,
            period_start=start,
            defaults={"period_end": end, "issuer": settings.INVOICE_ISSUER},
        )
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status == InvoiceStatus.OPEN:
            return invoice
        start, end = period_bounds(end)
    raise Conflict("No open billing period to roll usage into.")


def _apply(batch: _InvoiceBatch) -> None:
    invoice = batch.invoice
    InvoicedUsage.objects.bulk_create(
        InvoicedUsage(usage_record_id=rid, invoice=invoice, org_id=invoice.org_id)
        for rid in batch.record_ids
    )
    totals = _LineSum()
    for (kind, model, provider), line_sum in batch.lines.items():
        line, _ = InvoiceLine.objects.get_or_create(
            invoice=invoice, kind=kind, model=model, provider=provider,
            defaults={"org_id": invoice.org_id},
        )
        InvoiceLine.objects.filter(pk=line.pk).update(**_increments(line_sum))
        for name in vars(totals):
            if kind == LineKind.BYOK_FEE and name == "upstream_cost_nanos":
                continue  # a BYOK upstream is the caller's own provider bill, not ours
            setattr(totals, name, getattr(totals, name) + getattr(line_sum, name))
    Invoice.objects.filter(pk=invoice.pk).update(
        requests=F("requests") + totals.requests,
        upstream_cost_nanos=F("upstream_cost_nanos") + totals.upstream_cost_nanos,
        margin_nanos=F("margin_nanos") + totals.margin_nanos,
        byok_fee_nanos=F("byok_fee_nanos") + totals.byok_fee_nanos,
        write_off_nanos=F("write_off_nanos") + totals.write_off_nanos,
        charge_nanos=F("charge_nanos") + totals.amount_nanos,
    )


def _increments(line_sum: _LineSum) -> dict:
    return {name: F(name) + value for name, value in vars(line_sum).items()}


def roll_usage_into_invoices(*, batch_size: int = 1000) -> int:
    """Roll every posted usage record not yet invoiced; safe to kill and rerun."""
    total = 0
    while True:
        rolled = roll_usage_batch(batch_size=batch_size)
        total += rolled
        if rolled < batch_size:
            return total


# --- finalizing ----------------------------------------------------------------------------

_LEDGER_LINES = {
    TransactionKind.TOP_UP: (LineKind.TOP_UP, "Card top-ups"),
    TransactionKind.PROMOTIONAL_CREDIT: (LineKind.CREDIT, "Promotional credit"),
    TransactionKind.REFUND: (LineKind.REVERSAL, "Refunds"),
    TransactionKind.DISPUTE: (LineKind.REVERSAL, "Disputes"),
}


def finalize_invoice(invoice_id: int, *, now: datetime | None = None) -> Invoice:
    """Number, complete and freeze one open invoice; a finalized one is returned unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("org").get(pk=invoice_id)
        if invoice.status == InvoiceStatus.FINALIZED:
            return invoice
        sums = (
            LedgerTransaction.objects.filter(
                org_id=invoice.org_id,
                kind__in=list(_LEDGER_LINES),
                created_at__gte=invoice.period_start,
                created_at__lt=invoice.period_end,
            )
            .values("kind")
            .annotate(total=Sum("wallet_delta_nanos"))
        )
        by_line: dict[str, int] = defaultdict(int)
        for row in sums:
            by_line[row["kind"]] += row["total"] or 0
        totals = {LineKind.TOP_UP: 0, LineKind.CREDIT: 0, LineKind.REVERSAL: 0,
                  LineKind.SPONSORED: 0}
        # A vendor's impressions and clicks, one line per model and campaign: every charge
        # made in the period (the finalize task posts pending ones to the ledger first).
        for spend in sponsored_spend(invoice.org_id, invoice.period_start, invoice.period_end):
            InvoiceLine.objects.create(
                invoice=invoice, org_id=invoice.org_id, kind=LineKind.SPONSORED,
                model=spend.model, provider=spend.campaign_ref,
                description=spend.line_description, amount_nanos=spend.amount_nanos,
            )
            totals[LineKind.SPONSORED] += spend.amount_nanos
        for txn_kind, amount in by_line.items():
            line_kind, description = _LEDGER_LINES[txn_kind]
            if amount:
                InvoiceLine.objects.create(
                    invoice=invoice, org_id=invoice.org_id, kind=line_kind,
                    model="", provider=txn_kind, description=description, amount_nanos=amount,
                )
            totals[line_kind] += amount
        counter, _ = InvoiceCounter.objects.get_or_create(issuer=invoice.issuer)
        counter = InvoiceCounter.objects.select_for_update().get(pk=counter.pk)
        number = counter.last_number + 1
        InvoiceCounter.objects.filter(pk=counter.pk).update(last_number=number)
        org = invoice.org
        Invoice.objects.filter(pk=invoice.pk).update(
            status=InvoiceStatus.FINALIZED,
            number=number,
            finalized_at=now,
            top_ups_nanos=totals[LineKind.TOP_UP],
            credits_nanos=totals[LineKind.CREDIT],
            reversals_nanos=totals[LineKind.REVERSAL],
            sponsored_nanos=totals[LineKind.SPONSORED],
            legal_name=org.legal_name or org.name,
            billing_address=org.billing_address,
            tax_id=org.tax_id,
        )
    return Invoice.objects.get(pk=invoice_id)


def finalize_due_invoices(*, now: datetime | None = None) -> list[int]:
    """Roll pending usage, then finalize every open invoice whose period ended (plus grace)."""
    now = now or timezone.now()
    roll_usage_into_invoices()
    due = Invoice.objects.filter(
        status=InvoiceStatus.OPEN, period_end__lte=now - FINALIZE_GRACE
    ).order_by("period_start", "id")
    finalized = []
    for invoice_id in due.values_list("id", flat=True):
        finalize_invoice(invoice_id, now=now)
        finalized.append(invoice_id)
    return finalized


def change_invoice(invoice: Invoice, **fields) -> None:
    """The only way to edit an invoice's header: refused once it is finalized."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == InvoiceStatus.FINALIZED:
            raise Conflict("A finalized invoice cannot be changed.")
        Invoice.objects.filter(pk=invoice.pk).update(**fields)


# What a download may be: the PDF, or one of the two CSVs (the invoice's lines, its usage).
DOWNLOAD_FORMATS = ("pdf", "lines.csv", "usage.csv")


@transaction.atomic
def record_invoice_download(*, invoice: Invoice, actor, file_format: str) -> None:
    """Audit that `actor` downloaded `invoice` as `file_format` (the views call it)."""
    if file_format not in DOWNLOAD_FORMATS:
        raise ValueError(f"unknown invoice download format: {file_format}")
    record_audit(org=invoice.org_id, action="invoice.downloaded", actor=actor, target=invoice,
                 target_label=invoice.display_number,
                 after={"format": file_format, "status": invoice.status})
