"""`POST /listings/beacon/`: a sponsored slot was seen (half of it for a second) or clicked.

`static/js/sponsored.js` sends it with `navigator.sendBeacon`, which cannot set a CSRF header,
so the view is CSRF-exempt and instead requires the request's Origin (or, lacking one, its
Referer) to be this site: another site can make a browser post here, never with our origin.
What it may bill is only what the signed ticket says (`tickets.read_ticket`), and only for the
browser it was served to (`charging.record_event`). The answer is 204 whether or not the event
counted (the page has nothing to do with it), 400 for a bad ticket or event, 403 for a foreign
origin.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.listings.charging import record_event
from marketplace.listings.models import EventKind
from marketplace.listings.tickets import BadTicket, read_ticket, viewer_key

logger = logging.getLogger(__name__)

# A beacon body is a token and a word; anything much larger is not ours.
MAX_BODY_BYTES = 8192


def _same_origin(request: HttpRequest) -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    try:
        ours = request.get_host()
    except DisallowedHost:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == ours.lower()


def _fields(request: HttpRequest) -> tuple[str, str]:
    if len(request.body) > MAX_BODY_BYTES:
        return "", ""
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        if not isinstance(data, dict):
            return "", ""
        token, event = data.get("token"), data.get("event")
    else:
        token, event = request.POST.get("token"), request.POST.get("event")
    return (token if isinstance(token, str) else ""), (event if isinstance(event, str) else "")


@csrf_exempt
@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    if not _same_origin(request):
        return HttpResponse("Cross-origin beacon refused.", status=403,
                            content_type="text/plain")
    token, event = _fields(request)
    if event not in EventKind.values:
        return HttpResponse("event must be impression or click.", status=400,
                            content_type="text/plain")
    try:
        ticket = read_ticket(token)
    except BadTicket:
        return HttpResponse("Bad or expired ticket.", status=400, content_type="text/plain")
    outcome = record_event(ticket, event, viewer=viewer_key(request),
                           user_agent=request.headers.get("User-Agent"))
    logger.debug("sponsored %s of campaign %s: %s", event, ticket.campaign_id, outcome.reason)
    return HttpResponse(status=204)
