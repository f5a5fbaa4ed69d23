"""The wallet page: balance, holds, recent transactions, top-ups, auto top-up, receipts."""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from billing.models import TopUpStatus
from billing.money import NANOS_PER_CENT, usd_to_nanos
from billing.selectors.ledger import (
    access_top_up,
    get_auto_top_up,
    get_wallet_summary,
    list_top_ups,
    list_wallet_transactions,
)
from billing.services import topups
from marketplace.errors import InvalidRequest, SwitchyardError
from marketplace.tenancy.access import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES


def _stripe_settings_missing() -> list[str]:
    names = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
    return [name for name in names if not getattr(settings, name)]


def _cents(raw: str, field: str = "amount") -> int:
    try:
        value = Decimal(str(raw).strip().lstrip("$"))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRequest("Enter an amount in dollars, like 25.00.", param=field) from exc
    if value != value.quantize(Decimal("0.01")):
        raise InvalidRequest("Amounts are in whole cents.", param=field)
    return int(value * 100)


@require_GET
@org_member_required(roles=BILLING_ROLES)
def wallet(request: HttpRequest) -> HttpResponse:
    org = request.org
    missing = _stripe_settings_missing()
    return render(
        request,
        "billing/wallet.html",
        {
            "summary": get_wallet_summary(org),
            "transactions": list_wallet_transactions(org)[:25],
            "top_ups": list_top_ups(org)[:10],
            "auto": get_auto_top_up(org),
            "stripe_missing": missing,
            "top_ups_on": not missing,
            "STRIPE_JS_URL": settings.STRIPE_JS_URL,
            "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
            "min_usd": f"{settings.TOPUP_MIN_CENTS / 100:.2f}",
            "max_usd": f"{settings.TOPUP_MAX_CENTS / 100:.2f}",
        },
    )


def _json_error(error: SwitchyardError) -> JsonResponse:
    return JsonResponse({"error": {"code": error.code, "message": error.message}},
                        status=error.status)


@require_POST
@org_member_required(roles=BILLING_ROLES)
def card_setup(request: HttpRequest) -> JsonResponse:
    """Start saving a card: the browser confirms the SetupIntent with Stripe.js."""
    try:
        return JsonResponse({"client_secret": topups.start_card_setup(request.org)})
    except SwitchyardError as error:
        return _json_error(error)


@require_POST
@org_member_required(roles=BILLING_ROLES)
def create_top_up(request: HttpRequest) -> JsonResponse:
    """Create the PaymentIntent; the wallet is credited later, by the verified webhook."""
    try:
        amount_cents = _cents(request.POST.get("amount", ""))
        top_up, intent = topups.create_top_up(
            request.org,
            amount_cents,
            user=request.user,
            payment_method_id=request.POST.get("payment_method", "").strip(),
        )
    except SwitchyardError as error:
        return _json_error(error)
    payment_method = request.POST.get("payment_method", "").strip()
    if payment_method and top_up.status != TopUpStatus.FAILED:
        # Saved for auto top-up; the payment stands even if Stripe cannot describe the card.
        with contextlib.suppress(SwitchyardError):
            topups.remember_card(request.org, payment_method)
    return JsonResponse(
        {
            "top_up_id": top_up.pk,
            "status": intent.status,
            "client_secret": intent.client_secret,
            "failure": top_up.failure_message,
        }
    )


@require_GET
@org_member_required(roles=BILLING_ROLES)
def top_up_status(request: HttpRequest, top_up_id: int) -> JsonResponse:
    top_up = access_top_up(request.org, top_up_id)
    return JsonResponse({"status": top_up.status, "failure": top_up.failure_message})


@require_POST
@org_member_required(roles=BILLING_ROLES)
def auto_top_up(request: HttpRequest) -> HttpResponse:
    try:
        threshold_cents = _cents(request.POST.get("threshold", "0"), "threshold")
        threshold = usd_to_nanos(Decimal(threshold_cents) / 100)
        topups.configure_auto_top_up(
            request.org,
            enabled=request.POST.get("enabled") == "on",
            threshold_nanos=threshold,
            amount_cents=_cents(request.POST.get("amount", "0")),
            payment_method_id=request.POST.get("payment_method", "").strip(),
        )
    except SwitchyardError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Auto top-up settings saved.")
    return redirect("billing:wallet")


@require_GET
@org_member_required(roles=BILLING_ROLES)
def receipt(request: HttpRequest, top_up_id: int) -> HttpResponse:
    """A receipt for one credited top-up: HTML, or PDF with `?format=pdf`."""
    top_up = access_top_up(request.org, top_up_id)
    context = {
        "org": request.org,
        "top_up": top_up,
        "amount_nanos": top_up.amount_cents * NANOS_PER_CENT,
        "issuer_details": settings.INVOICE_ISSUER_DETAILS,
    }
    if request.GET.get("format") != "pdf":
        return render(request, "billing/receipt.html", context)
    from weasyprint import HTML  # heavy import, only for PDF downloads

    html = render_to_string("billing/receipt_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{top_up.pk}.pdf"'
    return response
