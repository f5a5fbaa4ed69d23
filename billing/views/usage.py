"""The usage page: the org's usage records with filters (period, key, model, provider)."""

from __future__ import annotations

from itertools import chain

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.selectors.invoices import list_usage, parse_usage_filters
from billing.views.invoices import USAGE_COLUMNS, _csv_response, usage_row
from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES
from marketplace.tenancy.selectors import list_api_keys


@require_GET
@org_member_required(roles=BILLING_ROLES)
def usage(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_usage_filters(request.GET)
    except InvalidRequest as error:
        # A form error on the page (the filters stay as typed), never a 500 from the database.
        return render(request, "billing/usage.html", {
            "page": [], "filters": request.GET, "keys": list_api_keys(request.org), "query": "",
            "filter_error": error.message}, status=400)
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
