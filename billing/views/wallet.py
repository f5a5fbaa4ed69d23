"""The wallet page: balance, holds, recent transactions, top-ups, auto top-up, receipts."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from billing.forms import AutoTopUpForm, TopUpForm, cents
from billing.models import TopUpStatus
from billing.selectors.ledger import (
    access_top_up,
    get_auto_top_up,
    get_wallet_summary,
    list_top_ups,
    list_wallet_transactions,
)
from billing.services import topups
from billing.stripe_client import StripeUnreachable, missing_settings
from core.errors import InvalidRequest, SwitchyardError
from core.money import cents_to_nanos, dashboard_usd
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES


@require_GET
@org_member_required(roles=BILLING_ROLES)
def wallet(request: HttpRequest) -> HttpResponse:
    org = request.org
    # Customers never see configuration: only whether top-ups are on (operators: the admin).
    top_ups_on = not missing_settings()
    return render(
        request,
        "billing/wallet.html",
        {
            "summary": get_wallet_summary(org),
            "transactions": list_wallet_transactions(org)[:25],
            "top_ups": list_top_ups(org)[:10],
            "auto": get_auto_top_up(org),
            "top_ups_on": top_ups_on,
            "STRIPE_JS_URL": settings.STRIPE_JS_URL,
            "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
            "min_usd": dashboard_usd(cents_to_nanos(settings.TOPUP_MIN_CENTS)),
            "max_usd": dashboard_usd(cents_to_nanos(settings.TOPUP_MAX_CENTS)),
        },
    )


def _json_error(error: SwitchyardError) -> JsonResponse:
    return JsonResponse({"error": {"code": error.code, "message": error.message}},
                        status=error.status)


def _form_error(form) -> InvalidRequest:
    name, problems = next(iter(form.errors.items()))
    return InvalidRequest(problems[0], param=name)


def _stripe_unreachable(request: HttpRequest, error: StripeUnreachable) -> HttpResponse:
    """The friendly 503: a page for a browser's form post, JSON for the wallet page's script."""
    if "text/html" in request.headers.get("Accept", ""):
        response = render(request, "billing/stripe_unreachable.html",
                          {"message": error.message}, status=503)
    else:
        response = _json_error(error)
    response["Retry-After"] = "60"
    return response


@require_POST
@org_member_required(roles=BILLING_ROLES)
def card_setup(request: HttpRequest) -> HttpResponse:
    """Start saving a card: the browser confirms the SetupIntent with Stripe.js."""
    try:
        return JsonResponse({"client_secret": topups.start_card_setup(request.org)})
    except StripeUnreachable as error:
        return _stripe_unreachable(request, error)
    except SwitchyardError as error:
        return _json_error(error)


@require_POST
@org_member_required(roles=BILLING_ROLES)
def create_top_up(request: HttpRequest) -> HttpResponse:
    """Create the PaymentIntent; the wallet is credited later, by the verified webhook."""
    form = TopUpForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        payment_method = form.cleaned_data["payment_method"].strip()
        top_up, intent = topups.create_top_up(
            request.org,
            cents(form.cleaned_data["amount"]),
            user=request.user,
            payment_method_id=payment_method,
        )
    except StripeUnreachable as error:
        return _stripe_unreachable(request, error)
    except SwitchyardError as error:
        return _json_error(error)
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
    form = AutoTopUpForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        data = form.cleaned_data
        topups.configure_auto_top_up(
            request.org,
            enabled=data["enabled"],
            threshold_nanos=data["threshold"] or 0,
            amount_cents=cents(data["amount"]),
            payment_method_id=data["payment_method"].strip(),
        )
    except StripeUnreachable as error:
        return _stripe_unreachable(request, error)
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
        "amount_nanos": cents_to_nanos(top_up.amount_cents),
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
