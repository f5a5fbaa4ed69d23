"""The request log pages: the org's requests, filtered and paged by cursor, one request with
every attempt, and the CSV export. Every member reads; owners, admins and finance export."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import USAGE_EXPORTERS, USAGE_READERS
from marketplace.tenancy.selectors import list_api_keys
from observability.models import ERROR_TYPES, OUTCOMES
from observability.request_log import (
    FILTER_NAMES,
    access_request,
    csv_response,
    list_requests,
    parse_cursor,
    parse_log_filters,
    stored_content,
)

LIST_TEMPLATE = "observability/request_log.html"
DETAIL_TEMPLATE = "observability/request_detail.html"


def _list_context(request: HttpRequest) -> dict:
    kept = request.GET.copy()
    for name in list(kept):
        if name not in FILTER_NAMES:
            kept.pop(name)
    return {
        "filters": request.GET,
        "query": kept.urlencode(),  # the filters alone: the Older link adds its cursor
        "keys": list_api_keys(request.org),
        "outcomes": OUTCOMES,
        "error_types": ERROR_TYPES,
        "can_export": request.membership.role in USAGE_EXPORTERS,
    }


@require_GET
@org_member_required(roles=USAGE_READERS)
def request_log(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    try:
        filters = parse_log_filters(request.GET)
        cursor = parse_cursor(request.GET.get("cursor"))
    except InvalidRequest as error:
        # A form error on the page, the filters as typed, never a 500 from the database.
        return render(request, LIST_TEMPLATE, {**context, "rows": [],
                                               "filter_error": error.message}, status=400)
    page = list_requests(request.org.pk, filters, cursor=cursor)
    return render(request, LIST_TEMPLATE, {**context, "rows": page.rows,
                                           "next_cursor": page.next_cursor,
                                           "paged": cursor is not None})


@require_GET
@org_member_required(roles=USAGE_EXPORTERS)
def request_log_csv(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_log_filters(request.GET)
    except InvalidRequest as error:
        return render(request, LIST_TEMPLATE, {**_list_context(request), "rows": [],
                                               "filter_error": error.message}, status=400)
    return csv_response(request.org.pk, request.org.slug, filters)


@require_GET
@org_member_required(roles=USAGE_READERS)
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    record = access_request(request.org.pk, request_id)  # another org's: NotFound, a 404
    content = stored_content(request.org.pk, record.request_id, request.membership.role)
    return render(request, DETAIL_TEMPLATE, {
        "record": record,
        "attempts": [a for a in record.attempts if isinstance(a, dict)],
        "content": content,
        "content_request": json.dumps(content.request, indent=2) if content else "",
        "content_response": (json.dumps(content.response, indent=2)
                             if content and content.response is not None else ""),
    })
