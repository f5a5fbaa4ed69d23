"""`POST /billing/stripe/webhook/`: verify Stripe's signature, then apply the event.

A bad signature or a stale timestamp answers 400 and writes nothing, and so does a verified
event whose object lacks a field we need or has it in the wrong type. A verified event we do
not act on answers 200 so Stripe stops retrying it; one that arrived before what it depends on
(the payment it reverses, the record of our own top-up) answers 409, so Stripe delivers it again
later.
"""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_client
from billing.services.webhooks import MalformedEvent, RetryLater, handle_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = stripe_client.verify_webhook(
            request.body, request.headers.get("Stripe-Signature", "")
        )
    except stripe_client.WebhookRejected:
        logger.warning("rejected a Stripe webhook with a bad signature or timestamp")
        return JsonResponse({"error": "invalid signature"}, status=400)
    try:
        outcome = handle_event(event)
    except MalformedEvent as exc:
        # The event's own fields (no secrets) say what is wrong; nothing was written.
        logger.warning("malformed stripe event %s: %s", event.get("type"), exc)
        return JsonResponse({"error": "malformed event", "detail": str(exc)}, status=400)
    except RetryLater as exc:
        # Stripe redelivers non-2xx answers with backoff; by then the payment is credited.
        logger.info("stripe event %s deferred: %s", event.get("type"), exc)
        return JsonResponse({"received": False, "retry": True}, status=409)
    logger.info("stripe event %s: %s", event.get("type"), outcome)
    return JsonResponse({"received": True, "outcome": outcome})
