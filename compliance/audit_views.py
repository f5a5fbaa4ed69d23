"""The audit log page (owners and admins): the org's entries, filtered, and the CSV export."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compliance.audit_log import (
    audit_csv_response,
    describe_changes,
    list_audit_actions,
    list_audit_entries,
    parse_audit_filters,
)
from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import AUDIT_VIEWERS

PAGE_SIZE = 50
TEMPLATE = "compliance/audit_log.html"


@require_GET
@org_member_required(roles=AUDIT_VIEWERS)
def audit_log(request: HttpRequest) -> HttpResponse:
    query = request.GET.copy()
    query.pop("page", None)  # the page links add their own
    context = {"filters": request.GET, "actions": list_audit_actions(request.org),
               "query": query.urlencode()}
    try:
        filters = parse_audit_filters(request.GET)
    except InvalidRequest as error:
        # A form error on the page, the filters as typed, never a 500 from the database.
        return render(request, TEMPLATE, {**context, "page": [], "filter_error": error.message},
                      status=400)
    page = Paginator(list_audit_entries(request.org, filters), PAGE_SIZE).get_page(
        request.GET.get("page"))
    for entry in page:
        entry.changes = describe_changes(entry)
    return render(request, TEMPLATE, {**context, "page": page})


@require_GET
@org_member_required(roles=AUDIT_VIEWERS)
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_audit_filters(request.GET)
    except InvalidRequest as error:
        return render(request, TEMPLATE, {
            "filters": request.GET, "actions": list_audit_actions(request.org), "page": [],
            "query": request.GET.urlencode(), "filter_error": error.message}, status=400)
    return audit_csv_response(request.org, filters)
