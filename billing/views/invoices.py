"""Invoice pages for finance, owners and admins: list, detail, PDF and CSV downloads.

Other roles get 403; another org's invoice id is 404 (access_invoice), never 403.
"""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from billing.models import InvoiceStatus, LineKind
from billing.selectors.invoices import (
    access_invoice,
    list_invoice_lines,
    list_invoice_rows,
    list_invoice_usage,
    unrolled_usage,
)
from billing.selectors.sponsored import sponsored_spend
from billing.services.invoices import record_invoice_download
from core.money import api_usd, nanos_to_cents
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES


def _context(request: HttpRequest, invoice_id: int) -> dict:
    invoice = access_invoice(request.org, invoice_id)
    org = request.org
    # An open invoice also counts usage the hourly roll has not itemized yet.
    is_open = invoice.status == InvoiceStatus.OPEN
    pending = unrolled_usage(org, invoice.period_start, invoice.period_end) if is_open else None
    usage_total = invoice.charge_nanos + (pending.charge_nanos if pending else 0)
    # A vendor's sponsored spend: its own lines once finalized; on a draft, computed on read.
    draft_sponsored = (sponsored_spend(org.pk, invoice.period_start, invoice.period_end)
                       if is_open else [])
    sponsored_total = (sum(s.amount_nanos for s in draft_sponsored) if is_open
                       else invoice.sponsored_nanos)
    return {
        "pending": pending,
        "usage_total_nanos": usage_total,
        "sponsored_total_nanos": sponsored_total,
        "draft_sponsored": draft_sponsored,
        "running_total_nanos": usage_total + sponsored_total,
        "invoice": invoice,
        "lines": list(list_invoice_lines(invoice)),
        "billed_to": {
            "name": invoice.legal_name or org.legal_name or org.name,
            "address": invoice.billing_address or org.billing_address,
            "tax_id": invoice.tax_id or org.tax_id,
        },
        "issuer_details": settings.INVOICE_ISSUER_DETAILS,
        "total_cents": nanos_to_cents(usage_total + sponsored_total),
    }


@require_GET
@org_member_required(roles=BILLING_ROLES)
def invoice_list(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/invoice_list.html", {"rows": list_invoice_rows(request.org)})


@require_GET
@org_member_required(roles=BILLING_ROLES)
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return render(request, "billing/invoice_detail.html", _context(request, invoice_id))


@require_GET
@org_member_required(roles=BILLING_ROLES)
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    context = _context(request, invoice_id)
    from weasyprint import HTML  # heavy import, only for PDF downloads

    html = render_to_string("billing/invoice_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    record_invoice_download(invoice=context["invoice"], actor=request.user, file_format="pdf")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = context["invoice"].display_number
    response["Content-Disposition"] = f'attachment; filename="invoice-{name}.pdf"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@org_member_required(roles=BILLING_ROLES)
def invoice_lines_csv(request: HttpRequest, invoice_id: int) -> StreamingHttpResponse:
    """One row per invoice line; amounts exact in nanos and as exact USD. A draft also lists
    its sponsored-listing spend so far (campaign id in the provider column)."""
    invoice = access_invoice(request.org, invoice_id)
    # Recorded when the download starts: the rows stream after this view has returned.
    record_invoice_download(invoice=invoice, actor=request.user, file_format="lines.csv")

    def rows():
        yield [
            "invoice", "kind", "model", "provider", "description", "requests", "prompt_tokens",
            "completion_tokens", "upstream_cost_nanos", "margin_nanos", "byok_fee_nanos",
            "write_off_nanos", "amount_nanos", "amount_usd",
        ]
        for line in list_invoice_lines(invoice):
            yield [
                invoice.display_number, line.kind, line.model, line.provider, line.description,
                line.requests, line.prompt_tokens, line.completion_tokens,
                line.upstream_cost_nanos, line.margin_nanos, line.byok_fee_nanos,
                line.write_off_nanos, line.amount_nanos, api_usd(line.amount_nanos),
            ]
        if invoice.status == InvoiceStatus.OPEN:
            # A draft's sponsored spend so far: its lines are written at finalization.
            for spend in sponsored_spend(invoice.org_id, invoice.period_start,
                                         invoice.period_end):
                yield [
                    invoice.display_number, LineKind.SPONSORED, spend.model,
                    spend.campaign_ref, spend.line_description, 0, 0, 0, 0, 0, 0, 0,
                    spend.amount_nanos, api_usd(spend.amount_nanos),
                ]

    return _csv_response(rows(), f"invoice-{invoice.display_number}-lines.csv")


USAGE_COLUMNS = [
    "request_id", "created_at", "api_key_id", "requested_model", "served_model", "provider",
    "prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "upstream_cost_nanos", "margin_nanos", "byok_fee_nanos",
    "write_off_nanos", "charge_nanos", "charge_usd", "is_byok", "estimated", "finish_reason",
]


def usage_row(record) -> list:
    return [
        record.request_id, record.created_at.isoformat(), record.api_key_id,
        record.requested_model, record.served_model, record.provider_slug, record.prompt_tokens,
        record.completion_tokens, record.cache_read_tokens, record.cache_write_tokens,
        record.reasoning_tokens, record.upstream_cost_nanos, record.margin_nanos,
        record.byok_fee_nanos, record.write_off_nanos, record.charge_nanos,
        api_usd(record.charge_nanos), record.is_byok, record.estimated,
        record.finish_reason,
    ]


@require_GET
@org_member_required(roles=BILLING_ROLES)
def invoice_usage_csv(request: HttpRequest, invoice_id: int) -> StreamingHttpResponse:
    """Every usage record of the invoice, one row each."""
    invoice = access_invoice(request.org, invoice_id)
    record_invoice_download(invoice=invoice, actor=request.user, file_format="usage.csv")

    def rows():
        yield USAGE_COLUMNS
        for record in list_invoice_usage(invoice).iterator(chunk_size=2000):
            yield usage_row(record)

    return _csv_response(rows(), f"invoice-{invoice.display_number}-usage.csv")
