"""Stripe webhook handling: credit, refund and dispute postings from verified events.

Deduplication is on the money, not on the event id: Stripe retries and replays carry new
event ids. A top-up's credit uses the PaymentIntent id as its ledger idempotency key, so it
posts once however many `payment_intent.succeeded` events arrive, in whatever order. Refunds
are cumulative (`amount_refunded`), so each event posts only the part not yet reversed, under
the TopUp row's lock; an older event arriving late posts nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.models import AccountKind, TopUp, TopUpStatus, TransactionKind
from billing.services.ledger import Leg, ensure_wallet, post_transaction, system_account
from billing.services.ledger import wallet_account as wallet_ledger_account
from billing.services.topups import top_up_nanos

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """A valid event that arrived before the one it depends on (a refund before the payment's
    success): answer non-2xx so Stripe redelivers it later, and write nothing now."""


def handle_event(event: dict) -> str:
    """Apply one verified Stripe event; return a short outcome for the response and logs."""
    kind = event.get("type", "")
    obj = event["data"].get("object") or {}
    handler = _HANDLERS.get(kind)
    if handler is None:
        return "ignored"
    return handler(obj)


def _top_up_for(payment_intent_id: str | None, *, lock: bool) -> TopUp | None:
    if not payment_intent_id:
        return None
    rows = TopUp.objects.select_related("org")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(payment_intent_id=payment_intent_id).first()


def _payment_succeeded(intent: dict) -> str:
    with transaction.atomic():
        top_up = _top_up_for(intent.get("id"), lock=True)
        if top_up is None:
            logger.warning("payment_intent.succeeded for an intent we did not create")
            return "unknown_intent"
        # The event must describe the payment we asked for: same org, amount and currency.
        metadata = intent.get("metadata") or {}
        if (
            str(metadata.get("org_id")) != str(top_up.org_id)
            or intent.get("amount") != top_up.amount_cents
            or (intent.get("currency") or "").lower() != top_up.currency
            or intent.get("status") != "succeeded"
        ):
            logger.error("payment_intent.succeeded does not match top-up %s", top_up.pk)
            return "mismatch"
        amount = top_up_nanos(top_up.amount_cents)
        ensure_wallet(top_up.org)
        posted = post_transaction(
            top_up.org,
            kind=TransactionKind.TOP_UP,
            idempotency_key=top_up.payment_intent_id,
            legs=[
                Leg(wallet_ledger_account(top_up.org), amount),
                Leg(system_account(AccountKind.STRIPE_CLEARING), -amount),
            ],
            memo="Card top-up" + (" (automatic)" if top_up.automatic else ""),
            metadata={"top_up_id": top_up.pk},
        )
        if top_up.status != TopUpStatus.SUCCEEDED:
            TopUp.objects.filter(pk=top_up.pk).update(
                status=TopUpStatus.SUCCEEDED,
                credited_at=timezone.now(),
                charge_id=_latest_charge_id(intent) or top_up.charge_id,
                failure_message="",
            )
    return "credited" if posted.created else "duplicate"


def _latest_charge_id(intent: dict) -> str:
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        return charge.get("id", "")
    return charge or ""


def _payment_failed(intent: dict) -> str:
    error = intent.get("last_payment_error") or {}
    updated = TopUp.objects.filter(
        payment_intent_id=intent.get("id"), status=TopUpStatus.PENDING
    ).update(status=TopUpStatus.FAILED, failure_message=(error.get("message") or "")[:300])
    return "failed" if updated else "ignored"


def _charge_refunded(charge: dict) -> str:
    with transaction.atomic():
        top_up = _top_up_for(charge.get("payment_intent"), lock=True)
        if top_up is None:
            return "unknown_intent"
        if top_up.status != TopUpStatus.SUCCEEDED:
            raise RetryLater("refund before the payment was credited")
        refunded = min(int(charge.get("amount_refunded") or 0), top_up.amount_cents)
        if refunded <= top_up.refunded_cents:
            return "duplicate"
        delta = refunded - top_up.refunded_cents
        _reverse(top_up, delta, kind=TransactionKind.REFUND,
                 key=f"refund:{top_up.payment_intent_id}:{refunded}", memo="Card refund")
        TopUp.objects.filter(pk=top_up.pk).update(refunded_cents=refunded)
    return "refunded"


def _dispute_created(dispute: dict) -> str:
    with transaction.atomic():
        top_up = _top_up_for(dispute.get("payment_intent"), lock=True)
        if top_up is None:
            top_up = TopUp.objects.select_for_update().filter(
                charge_id=dispute.get("charge") or "-"
            ).first()
        if top_up is None:
            return "unknown_intent"
        if top_up.status != TopUpStatus.SUCCEEDED:
            raise RetryLater("dispute before the payment was credited")
        amount = min(int(dispute.get("amount") or 0), top_up.amount_cents)
        if amount <= 0:
            return "ignored"
        posted = _reverse(top_up, amount, kind=TransactionKind.DISPUTE,
                          key=f"dispute:{dispute.get('id')}", memo="Card payment disputed")
        if posted:
            TopUp.objects.filter(pk=top_up.pk).update(
                disputed_cents=top_up.disputed_cents + amount
            )
    return "disputed" if posted else "duplicate"


def _reverse(top_up: TopUp, amount_cents: int, *, kind: str, key: str, memo: str) -> bool:
    """Take `amount_cents` back out of the wallet into Stripe clearing (may go negative)."""
    amount = top_up_nanos(amount_cents)
    posted = post_transaction(
        top_up.org,
        kind=kind,
        idempotency_key=key,
        legs=[
            Leg(wallet_ledger_account(top_up.org), -amount),
            Leg(system_account(AccountKind.STRIPE_CLEARING), amount),
        ],
        memo=memo,
        metadata={"top_up_id": top_up.pk},
    )
    return posted.created


_HANDLERS = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}
