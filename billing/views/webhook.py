"""`POST /billing/stripe/webhook/`: verify Stripe's signature, then apply the event.

A bad signature or a stale timestamp answers 400 and writes nothing. A verified event we do
not act on answers 200 so Stripe stops retrying it.
"""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_client
from billing.services.webhooks import handle_event

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
    outcome = handle_event(event)
    logger.info("stripe event %s: %s", event.get("type"), outcome)
    return JsonResponse({"received": True, "outcome": outcome})
