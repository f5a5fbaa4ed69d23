"""The vendor pages under /vendor/: campaigns (list, create, edit, pause, resume, report), the
listing text proposals and the vendor's models' public statistics.

Any member of a vendor org reads them; the services let owners and admins write. A
developer-only org gets the 403 page saying only vendors run campaigns; another vendor's
campaign id is 404 (org_member_required turns the selectors' errors into both).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Forbidden, InvalidRequest

# Spend is sub-cent per impression: shown to six significant digits, as a request's cost is.
from core.money import dashboard_usd, request_cost_usd
from marketplace.listings import reports, selectors, services
from marketplace.listings.forms import CampaignForm, ListingEditForm, add_service_error
from marketplace.listings.statistics import model_statistics
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import VENDOR_MANAGERS


def _vendor(request) -> bool:
    """Refuse a developer-only org; answer whether the member may change things."""
    if not request.org.is_vendor:
        raise Forbidden(services.NOT_A_VENDOR)
    return request.membership.role in VENDOR_MANAGERS


def _promotable(request) -> list[str]:
    return list(selectors.promotable_models(request.org).values_list("slug", flat=True))


@org_member_required()
def campaign_list(request):
    can_manage = _vendor(request)
    campaigns = [{
        "campaign": c,
        "spent": request_cost_usd(c.spent_nanos),
        "budget": dashboard_usd(c.total_budget_nanos),
        "daily_budget": dashboard_usd(c.daily_budget_nanos),
        "bid": dashboard_usd(c.bid_nanos),
    } for c in selectors.list_campaigns(request.org)]
    return render(request, "listings/campaign_list.html",
                  {"campaigns": campaigns, "can_manage": can_manage})


@org_member_required()
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    if not _vendor(request):
        raise Forbidden("Only owners and admins of a vendor organization can create campaigns.")
    models = _promotable(request)
    form = CampaignForm(request.POST if request.method == "POST" else None, models=models)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign = services.create_campaign(
                    org=request.org, actor=request.actor, model_slug=form.cleaned_data["model"],
                    pricing=form.cleaned_data["pricing"],
                    data=services.CampaignInput(**form.service_values()))
            except InvalidRequest as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Campaign “{campaign.name}” created.")
                return redirect(f"/vendor/campaigns/{campaign.pk}/")
        status = 400
    return render(request, "listings/campaign_form.html",
                  {"form": form, "campaign": None, "has_models": bool(models)}, status=status)


@org_member_required()
@require_http_methods(["GET", "POST"])
def campaign_edit(request, campaign_id: int):
    can_manage = _vendor(request)
    campaign = selectors.access_campaign(request.org, campaign_id)
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(data, models=_promotable(request), campaign=campaign)
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("Only owners and admins of a vendor organization can change "
                            "campaigns.")
        if form.is_valid():
            try:
                services.update_campaign(org=request.org, actor=request.actor,
                                         campaign_id=campaign.pk,
                                         changes=form.service_values())
            except InvalidRequest as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Campaign saved.")
                return redirect(f"/vendor/campaigns/{campaign.pk}/")
        status = 400
    context = {"form": form, "campaign": campaign, "can_manage": can_manage,
               "spent": request_cost_usd(campaign.spent_nanos),
               "budget": dashboard_usd(campaign.total_budget_nanos)}
    return render(request, "listings/campaign_form.html", context, status=status)


@org_member_required()
@require_POST
def campaign_pause(request, campaign_id: int):
    _vendor(request)
    services.pause_campaign(org=request.org, actor=request.actor, campaign_id=campaign_id)
    messages.success(request, "Campaign paused.")
    return redirect(f"/vendor/campaigns/{campaign_id}/")


@org_member_required()
@require_POST
def campaign_resume(request, campaign_id: int):
    _vendor(request)
    services.resume_campaign(org=request.org, actor=request.actor, campaign_id=campaign_id)
    messages.success(request, "Campaign resumed.")
    return redirect(f"/vendor/campaigns/{campaign_id}/")


def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.2f}%"


def _row_view(row: reports.ReportRow) -> dict:
    return {"day": row.day, "placement": row.placement, "impressions": row.impressions,
            "clicks": row.clicks, "ctr": _percent(row.ctr),
            "spend": request_cost_usd(row.spend_nanos),
            "avg_cpc": "—" if row.avg_cpc_nanos is None else request_cost_usd(row.avg_cpc_nanos)}


@org_member_required()
def campaign_report(request, campaign_id: int):
    _vendor(request)
    campaign = selectors.access_campaign(request.org, campaign_id)
    report = reports.campaign_report(campaign)
    context = {
        "campaign": campaign, "rows": [_row_view(r) for r in report.rows],
        "totals": _row_view(report.totals), "conversions": report.conversions,
        "chart": reports.daily_chart(report), "min_orgs": reports.CONVERSION_MIN_ORGS,
        "window_days": reports.CONVERSION_WINDOW.days,
    }
    return render(request, "listings/campaign_report.html", context)


@org_member_required()
def model_stats(request):
    _vendor(request)
    return render(request, "listings/models.html", {"models": model_statistics(request.org)})


@org_member_required()
@require_http_methods(["GET", "POST"])
def listing_edits(request):
    can_manage = _vendor(request)
    models = _promotable(request)
    initial = {"model": request.GET.get("model")} if request.GET.get("model") else None
    form = ListingEditForm(request.POST if request.method == "POST" else None, models=models,
                           initial=initial)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("Only owners and admins of a vendor organization can propose "
                            "listing text.")
        if form.is_valid():
            try:
                services.propose_listing_edit(
                    org=request.org, actor=request.actor, model_slug=form.cleaned_data["model"],
                    description=form.cleaned_data["description"],
                    tags=form.cleaned_data["tags"])
            except InvalidRequest as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Sent for review. Staff approve listing text before "
                                 "it shows.")
                return redirect("/vendor/listings/")
        status = 400
    context = {"form": form, "can_manage": can_manage, "has_models": bool(models),
               "edits": selectors.list_listing_edits(request.org)[:50]}
    return render(request, "listings/listing_edits.html", context, status=status)
