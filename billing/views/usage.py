"""The usage page: the org's usage records with filters (period, key, model, provider)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import chain

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET

from billing.selectors.invoices import UsageFilters, list_usage
from billing.views.invoices import USAGE_COLUMNS, _csv_response, usage_row
from marketplace.tenancy.access import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES
from marketplace.tenancy.selectors import list_api_keys


def parse_usage_filters(params) -> UsageFilters:
    """Filters from query parameters: `since`/`until` dates (until inclusive), key, model."""
    since = parse_date(params.get("since") or "")
    until = parse_date(params.get("until") or "")
    key = params.get("key") or ""
    return UsageFilters(
        since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
        api_key_id=int(key) if key.isdigit() else None,
        model=(params.get("model") or "").strip(),
        provider=(params.get("provider") or "").strip(),
    )


@require_GET
@org_member_required(roles=BILLING_ROLES)
def usage(request: HttpRequest) -> HttpResponse:
    filters = parse_usage_filters(request.GET)
    rows = list_usage(request.org, filters)
    if request.GET.get("format") == "csv":
        return _csv_response(
            chain([USAGE_COLUMNS], (usage_row(r) for r in rows.iterator(chunk_size=2000))),
            "usage.csv",
        )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/usage.html",
        {
            "page": page,
            "filters": request.GET,
            "keys": list_api_keys(request.org),
            "query": request.GET.urlencode(),
        },
    )
