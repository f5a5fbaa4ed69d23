"""Reads of invoices and usage, always scoped to one org."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date

from billing.models import Invoice, InvoiceLine, InvoiceStatus, SponsoredCharge, UsageRecord
from billing.services.invoices import period_bounds
from core.errors import InvalidRequest, NotFound
from marketplace.fields import query_int
from marketplace.tenancy.models import Organization


def list_invoices(org: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.filter(org=org).order_by("-period_start", "-id")


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One row of the invoice list. `invoice` is None for this month's draft before usage was
    first rolled into it; an open invoice's figures include usage not rolled in yet.
    `charge_nanos` is everything the period drew from the wallet: usage and sponsored listings."""

    invoice: Invoice | None
    period_start: datetime
    period_end: datetime  # exclusive
    requests: int
    charge_nanos: int
    running: bool  # the current month's draft: figures computed on read


@dataclass(frozen=True, slots=True)
class Unrolled:
    requests: int
    charge_nanos: int


def unrolled_usage(org: Organization, start: datetime, end: datetime) -> Unrolled:
    """Usage of [start, end) not yet rolled into an invoice (the hourly roll has not run)."""
    row = UsageRecord.objects.filter(
        org=org, created_at__gte=start, created_at__lt=end, invoiced__isnull=True
    ).aggregate(requests=Count("id"), charge=Sum("charge_nanos"))
    return Unrolled(requests=row["requests"], charge_nanos=row["charge"] or 0)


def sponsored_so_far(org: Organization, start: datetime, end: datetime) -> int:
    """A vendor's sponsored-listing charges made in [start, end), posted or not: what an open
    invoice will state for them once finalized."""
    total = SponsoredCharge.objects.filter(
        org=org, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Sum("amount_nanos"))["total"]
    return total or 0


def list_invoice_rows(org: Organization, *, now: datetime | None = None) -> list[InvoiceRow]:
    """The org's invoices, newest first, with this month's draft always present and its
    running total computed on read (rolled lines plus usage not rolled yet plus sponsored
    charges so far): three queries."""
    start, end = period_bounds(now or timezone.now())
    invoices = list(list_invoices(org))
    usage = unrolled_usage(org, start, end)
    pending = Unrolled(usage.requests, usage.charge_nanos + sponsored_so_far(org, start, end))
    rows = []
    current = next((i for i in invoices if i.period_start == start
                    and i.status == InvoiceStatus.OPEN), None)
    if current is None:
        rows.append(InvoiceRow(None, start, end, pending.requests, pending.charge_nanos, True))
    for invoice in invoices:
        running = invoice is current
        rows.append(InvoiceRow(
            invoice, invoice.period_start, invoice.period_end,
            invoice.requests + (pending.requests if running else 0),
            invoice.charge_nanos + (pending.charge_nanos if running else invoice.sponsored_nanos),
            running,
        ))
    return rows


def access_invoice(org: Organization, invoice_id: int) -> Invoice:
    """The org's invoice; another org's id is NotFound, exactly like a missing one."""
    invoice = Invoice.objects.filter(org=org, pk=invoice_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def list_invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return InvoiceLine.objects.filter(invoice=invoice).order_by("kind", "model", "provider", "id")


def list_invoice_usage(invoice: Invoice) -> QuerySet[UsageRecord]:
    """Every usage record rolled into this invoice, oldest first."""
    return UsageRecord.objects.filter(
        org_id=invoice.org_id, invoiced__invoice=invoice
    ).order_by("created_at", "id")


@dataclass(frozen=True, slots=True)
class UsageFilters:
    since: datetime | None = None
    until: datetime | None = None
    api_key_id: int | None = None
    model: str = ""
    provider: str = ""


def list_usage(org: Organization, filters: UsageFilters | None = None) -> QuerySet[UsageRecord]:
    """The org's usage records, newest first, narrowed by period, key, model and provider."""
    filters = filters or UsageFilters()
    rows = UsageRecord.objects.filter(org=org)
    if filters.since:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(created_at__lt=filters.until)
    if filters.api_key_id:
        rows = rows.filter(api_key_id=filters.api_key_id)
    if filters.model:
        rows = rows.filter(served_model=filters.model) | rows.filter(
            requested_model=filters.model, served_model=""
        )
    if filters.provider:
        rows = rows.filter(provider_slug=filters.provider)
    return rows.order_by("-created_at", "-id")


def _date(params, name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_date(raw) if len(raw) <= 10 else None
    except ValueError:  # well formed but not a day, like 2026-02-30
        value = None
    if value is None:
        raise InvalidRequest(f"{name} must be a date as YYYY-MM-DD.", param=name)
    if value.year >= 9999:  # `until` adds a day
        raise InvalidRequest(f"{name} must be before 9999-01-01.", param=name)
    return value


def parse_usage_filters(params) -> UsageFilters:
    """Filters from query parameters: `since`/`until` dates (until inclusive), key, model.

    A malformed value is an InvalidRequest naming the parameter (a 400); NUL anywhere is one
    too, as PostgreSQL text cannot hold it.
    """
    for name in ("since", "until", "key", "model", "provider", "kind"):
        if "\x00" in (params.get(name) or ""):
            raise InvalidRequest(f"{name} cannot contain NUL characters.", param=name)
    since, until = _date(params, "since"), _date(params, "until")
    return UsageFilters(
        since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
        api_key_id=query_int(params, "key"),
        model=(params.get("model") or "").strip(),
        provider=(params.get("provider") or "").strip(),
    )
