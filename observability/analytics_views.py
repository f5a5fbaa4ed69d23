"""The analytics page (every member) and its CSV export of the rollups (owners, admins,
finance). Figures come from `observability.analytics`, which reads rollups only."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import charts
from core.money import request_cost_usd
from marketplace.tenancy import selectors as tenancy_selectors
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES
from observability.analytics import Analytics, csv_response, get_analytics
from observability.forms import AnalyticsForm
from observability.models import DAY

TEMPLATE = "observability/analytics.html"
NO_GROUP = {"model": "(none)", "provider": "(no provider: refused)", "key": "(no key)",
            "app": "(no app)", "task": "(unlabelled)"}


def _label(start: dt.datetime, bucket: str) -> str:
    return start.date().isoformat() if bucket == DAY else start.strftime("%b %-d %H:00")


def _group_names(request: HttpRequest, group_by: str):
    """group value -> what the page shows (a key's name, a placeholder for "")."""
    names: dict[str, str] = {}
    if group_by == "key":
        names = {str(pk): f"{name} (#{pk})" for pk, name in tenancy_selectors.list_api_keys(
            request.org).values_list("pk", "name")}

    def name(group: str) -> str:
        return names.get(group, group) or NO_GROUP.get(group_by, "")
    return name


def _charts(data: Analytics, name) -> dict:
    query = data.query
    labels = [_label(start, query.bucket) for start in data.starts]
    index = {start: i for i, start in enumerate(data.starts)}
    points = [(index.get(start, -1), name(group), requests, tokens, nanos)
              for start, group, requests, tokens, nanos in data.series]
    order = [name(g.group) for g in data.groups]  # one colour per group on every chart
    return {
        "spend": charts.stacked_by_group(labels, [(i, g, n) for i, g, _, _, n in points],
                                         axis="usd", order=order),
        "requests": charts.stacked_by_group(labels, [(i, g, r) for i, g, r, _, _ in points],
                                            axis="count", count_title="Requests", order=order),
        "tokens": charts.stacked_by_group(labels, [(i, g, t) for i, g, _, t, _ in points],
                                          axis="count", count_title="Tokens", order=order),
    }


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


@require_GET
@org_member_required()
def analytics(request: HttpRequest) -> HttpResponse:
    form = AnalyticsForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    if not request.GET:
        form = AnalyticsForm({"range": "7d", "group_by": "model"})
        form.is_valid()
    query = form.query()
    data = get_analytics(request.org, query)
    name = _group_names(request, query.group_by)
    total = data.total
    groups = [{"name": name(g.group), "summary": g, "spend": request_cost_usd(g.cost_nanos),
               "spend_share": _percent(g.cost_nanos, total.cost_nanos),
               "request_share": _percent(g.requests, total.requests),
               "error_rate": _percent(g.errors, g.requests)} for g in data.groups]
    model_name = _group_names(request, "model")
    provider_name = _group_names(request, "provider")
    export_query = request.GET.urlencode() or "range=7d&group_by=model"
    return render(request, TEMPLATE, {
        "form": form, "query": query, "data": data, "charts": _charts(data, name),
        "groups": groups, "group_label": dict(form.fields["group_by"].choices)[query.group_by],
        "total_spend": request_cost_usd(total.cost_nanos),
        "error_rate": _percent(total.errors, total.requests),
        "fallback_rate": _percent(total.fallbacks, total.requests),
        "byok_share": _percent(total.byok, total.requests),
        "error_types": [{"type": kind, "requests": n, "share": _percent(n, total.requests)}
                        for kind, n in total.error_types.items()],
        "by_model": [{"name": model_name(s.group), "summary": s} for s in data.by_model],
        "by_provider": [{"name": provider_name(s.group), "summary": s}
                        for s in data.by_provider],
        "can_export": request.membership.role in BILLING_ROLES,
        "export_query": export_query,
    })


@require_GET
@org_member_required(roles=BILLING_ROLES)
def analytics_csv(request: HttpRequest) -> HttpResponse:
    form = AnalyticsForm(request.GET, capped=False)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    return csv_response(request.org, form.query())
