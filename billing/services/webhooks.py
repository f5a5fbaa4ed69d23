"""Stripe webhook handling: credit, refund and dispute postings from verified events.

Deduplication is on the money, not on the event id: Stripe retries and replays carry new
event ids. A top-up's credit uses the PaymentIntent id as its ledger idempotency key, so it
posts once however many `payment_intent.succeeded` events arrive, in whatever order.

Reversals are state, not deltas: each refund or dispute event updates what Stripe has told us
(cumulative refunds, each dispute and its outcome) under the TopUp row's lock, and the ledger
then moves by the difference between what should be taken back, min(credited, refunds +
standing disputes), and what already was. So refunds and disputes together never take back more
than the payment credited, a won dispute gives back what it still holds, once, and any order or
repetition of the same events ends in the same balance.

Events are checked field by field before anything is written: one that lacks a field we need,
or has it in the wrong type, is `MalformedEvent` (400), never a crash and never a credit.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.models import (
    AccountKind,
    DisputeStatus,
    TopUp,
    TopUpDispute,
    TopUpStatus,
    TransactionKind,
)
from billing.services.ledger import Leg, ensure_wallet, post_transaction, system_account
from billing.services.ledger import wallet_account as wallet_ledger_account
from billing.services.topups import TOP_UP_PURPOSE, top_up_nanos
from marketplace.tenancy.audit import record_audit

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """A valid event that arrived before what it depends on (a refund before the payment's
    success, the success of a top-up not recorded yet): answer non-2xx so Stripe redelivers
    it later, and write nothing now."""


class MalformedEvent(Exception):
    """A verified event whose object lacks a field we need or has it in the wrong type."""


def handle_event(event: dict) -> str:
    """Apply one verified Stripe event; return a short outcome for the response and logs."""
    kind = event.get("type")
    if not isinstance(kind, str):
        raise MalformedEvent("type is not a string")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return "ignored"
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object is missing or not an object")
    return handler(obj)


# --- reading event fields ------------------------------------------------------------------


def _text(obj: dict, name: str, *, required: bool = True) -> str:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise MalformedEvent(f"{name} is missing")
        return ""
    # Stripe's ids and codes are short; the columns that keep them hold 64 characters.
    if not isinstance(value, str) or len(value) > 64:
        raise MalformedEvent(f"{name} is not a string of at most 64 characters")
    return value


def _cents(obj: dict, name: str) -> int:
    value = obj.get(name)
    # JSON numbers only: "2500" or 25.0 is not an amount Stripe sends.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEvent(f"{name} is not a non-negative integer")
    return value


def _mapping(obj: dict, name: str) -> dict:
    value = obj.get(name)
    if not isinstance(value, dict):
        raise MalformedEvent(f"{name} is not an object")
    return value


def _charge_id(obj: dict, name: str) -> str:
    """A charge given as its id or as the expanded charge object."""
    value = obj.get(name)
    if isinstance(value, dict):
        return _text(value, "id", required=False)
    return _text(obj, name, required=False)


# --- payments ------------------------------------------------------------------------------


def _top_up_for(payment_intent_id: str, *, lock: bool) -> TopUp | None:
    if not payment_intent_id:
        return None
    rows = TopUp.objects.select_related("org")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(payment_intent_id=payment_intent_id).first()


def _unattached_top_up(metadata: dict) -> TopUp | None:
    """The row our metadata names whose intent id is not recorded yet (locked), else None.

    A saved card is charged while `create_top_up` waits for Stripe's answer, so the success
    can arrive before the row learns its intent id; the row was written first and the intent
    carries its id, so the credit is not lost.
    """
    top_up_id = metadata.get("top_up_id")
    if not isinstance(top_up_id, str) or not top_up_id.isdigit():
        return None
    return (
        TopUp.objects.select_related("org").select_for_update(of=("self",))
        .filter(pk=int(top_up_id), payment_intent_id__isnull=True).first()
    )


def _payment_succeeded(intent: dict) -> str:
    intent_id = _text(intent, "id")
    amount = _cents(intent, "amount")
    currency = _text(intent, "currency").lower()
    status = _text(intent, "status")
    metadata = _mapping(intent, "metadata")
    charge_id = _charge_id(intent, "latest_charge")

    def describes(top_up: TopUp) -> bool:
        """The event is the payment we asked for: same org, amount and currency, paid."""
        return (
            str(metadata.get("org_id")) == str(top_up.org_id)
            and amount == top_up.amount_cents
            and currency == top_up.currency
            and status == "succeeded"
        )

    with transaction.atomic():
        top_up = _top_up_for(intent_id, lock=True)
        if top_up is None:
            top_up = _unattached_top_up(metadata)
            if top_up is not None and describes(top_up):
                TopUp.objects.filter(pk=top_up.pk).update(payment_intent_id=intent_id)
                top_up.payment_intent_id = intent_id
        if top_up is None:
            if metadata.get("purpose") == TOP_UP_PURPOSE:
                # Ours, but its row is not visible yet (a top-up created by code that wrote it
                # after Stripe answered): Stripe redelivers, and by then the row is there.
                raise RetryLater("payment_intent.succeeded for a top-up not recorded yet")
            logger.warning("payment_intent.succeeded for an intent we did not create")
            return "unknown_intent"
        if top_up.payment_intent_id != intent_id or not describes(top_up):
            logger.error("payment_intent.succeeded does not match top-up %s", top_up.pk)
            return "mismatch"
        ensure_wallet(top_up.org)
        credit = top_up_nanos(top_up.amount_cents)
        posted = post_transaction(
            top_up.org,
            kind=TransactionKind.TOP_UP,
            idempotency_key=top_up.payment_intent_id,
            legs=[
                Leg(wallet_ledger_account(top_up.org), credit),
                Leg(system_account(AccountKind.STRIPE_CLEARING), -credit),
            ],
            memo="Card top-up" + (" (automatic)" if top_up.automatic else ""),
            metadata={"top_up_id": top_up.pk},
        )
        if top_up.status != TopUpStatus.SUCCEEDED:
            TopUp.objects.filter(pk=top_up.pk).update(
                status=TopUpStatus.SUCCEEDED,
                credited_at=timezone.now(),
                charge_id=charge_id or top_up.charge_id,
                failure_message="",
            )
        if posted.created:
            _audit(top_up, "top_up.credited", before={"status": top_up.status},
                   after={"status": TopUpStatus.SUCCEEDED, "amount_cents": top_up.amount_cents,
                          "credited_nanos": credit})
    return "credited" if posted.created else "duplicate"


def _audit(top_up: TopUp, action: str, *, before: dict, after: dict) -> None:
    """One audit entry about a top-up, in the caller's transaction.

    The actor is the user who started the top-up (None, the system, for an automatic one); the
    request being served is Stripe's, so its address is not the actor's and none is recorded.
    """
    record_audit(org=top_up.org_id, action=action, actor=top_up.created_by, target=top_up,
                 target_label=top_up.payment_intent_id or f"top-up {top_up.pk}",
                 before=before, after=after, client_ip=None)


def _payment_failed(intent: dict) -> str:
    intent_id = _text(intent, "id")
    error = intent.get("last_payment_error") or {}
    if not isinstance(error, dict):
        raise MalformedEvent("last_payment_error is not an object")
    message = _text(error, "message", required=False)
    updated = TopUp.objects.filter(
        payment_intent_id=intent_id, status=TopUpStatus.PENDING
    ).update(status=TopUpStatus.FAILED, failure_message=message[:300])
    return "failed" if updated else "ignored"


# --- reversals -----------------------------------------------------------------------------


def _credited_top_up(payment_intent_id: str, charge_id: str, what: str) -> TopUp | None:
    """The locked, credited top-up a reversal event is about; None if it is not ours."""
    top_up = _top_up_for(payment_intent_id, lock=True)
    if top_up is None and charge_id:
        top_up = (
            TopUp.objects.select_related("org").select_for_update(of=("self",))
            .filter(charge_id=charge_id).first()
        )
    if top_up is not None and top_up.status != TopUpStatus.SUCCEEDED:
        raise RetryLater(f"{what} before the payment was credited")
    return top_up


def _charge_refunded(charge: dict) -> str:
    payment_intent_id = _text(charge, "payment_intent", required=False)
    charge_id = _text(charge, "id", required=False)
    refunded = _cents(charge, "amount_refunded")
    with transaction.atomic():
        top_up = _credited_top_up(payment_intent_id, charge_id, "refund")
        if top_up is None:
            return "unknown_intent"
        # Cumulative: an older event arriving late (a smaller total) changes nothing.
        refunded = min(refunded, top_up.amount_cents)
        if refunded <= top_up.refunded_cents:
            return "duplicate"
        before = {"refunded_cents": top_up.refunded_cents, "reversed_cents": top_up.reversed_cents}
        top_up.refunded_cents = refunded
        TopUp.objects.filter(pk=top_up.pk).update(refunded_cents=refunded)
        _settle_reversals(top_up, kind=TransactionKind.REFUND,
                          key=f"refund:{top_up.payment_intent_id}:{refunded}", memo="Card refund")
        _audit(top_up, "top_up.refunded", before=before,
               after={"refunded_cents": refunded, "reversed_cents": top_up.reversed_cents})
    return "refunded"


def _dispute_created(dispute: dict) -> str:
    return _dispute_event(dispute, closed=False)


def _dispute_closed(dispute: dict) -> str:
    return _dispute_event(dispute, closed=True)


# A closed dispute's Stripe status -> ours. `warning_closed`: an inquiry that never became a
# chargeback, so the money stays ours, as with a won dispute.
_CLOSED = {"won": DisputeStatus.WON, "warning_closed": DisputeStatus.WON,
           "lost": DisputeStatus.LOST}


def _dispute_event(dispute: dict, *, closed: bool) -> str:
    dispute_id = _text(dispute, "id")
    amount = _cents(dispute, "amount")
    payment_intent_id = _text(dispute, "payment_intent", required=False)
    charge_id = _charge_id(dispute, "charge")
    outcome = None
    if closed:
        outcome = _CLOSED.get(_text(dispute, "status"))
        if outcome is None:
            return "ignored"
    with transaction.atomic():
        top_up = _credited_top_up(payment_intent_id, charge_id, "dispute")
        if top_up is None:
            return "unknown_intent"
        row = TopUpDispute.objects.select_for_update().filter(dispute_id=dispute_id).first()
        if row is not None and row.top_up_id != top_up.pk:
            logger.error("dispute %s moved to another payment; ignored", dispute_id)
            return "mismatch"
        before = {"disputed_cents": top_up.disputed_cents, "reversed_cents": top_up.reversed_cents}
        if row is None:
            # Whichever event comes first records the dispute; a won one counts for nothing.
            row = TopUpDispute.objects.create(
                org_id=top_up.org_id, top_up=top_up, dispute_id=dispute_id,
                amount_cents=min(amount, top_up.amount_cents),
                status=outcome or DisputeStatus.OPEN, closed_at=timezone.now() if closed else None,
            )
            if row.status != DisputeStatus.WON:
                top_up.disputed_cents += row.amount_cents
                TopUp.objects.filter(pk=top_up.pk).update(disputed_cents=top_up.disputed_cents)
                _settle_reversals(top_up, kind=TransactionKind.DISPUTE,
                                  key=f"dispute:{dispute_id}", memo="Card payment disputed")
            _audit(top_up, "top_up.disputed", before=before, after={
                "dispute": dispute_id, "dispute_status": row.status,
                "dispute_cents": row.amount_cents, "disputed_cents": top_up.disputed_cents,
                "reversed_cents": top_up.reversed_cents})
            return "dispute_won" if row.status == DisputeStatus.WON else "disputed"
        if outcome is None or row.status != DisputeStatus.OPEN:
            return "duplicate"  # a created after the first record, or a closed one again
        TopUpDispute.objects.filter(pk=row.pk).update(status=outcome, closed_at=timezone.now())
        if outcome == DisputeStatus.WON:
            top_up.disputed_cents -= row.amount_cents
            TopUp.objects.filter(pk=top_up.pk).update(disputed_cents=top_up.disputed_cents)
            _settle_reversals(top_up, kind=TransactionKind.DISPUTE,
                              key=f"dispute-won:{dispute_id}",
                              memo="Card dispute won: payment credited back")
        # A lost dispute keeps what it took; the entry still records the outcome.
        _audit(top_up, "top_up.dispute_closed", before={**before, "dispute_status": row.status},
               after={"dispute": dispute_id, "dispute_status": outcome,
                      "disputed_cents": top_up.disputed_cents,
                      "reversed_cents": top_up.reversed_cents})
    return "dispute_won" if outcome == DisputeStatus.WON else "dispute_lost"


def _settle_reversals(top_up: TopUp, *, kind: str, key: str, memo: str) -> int:
    """Move the ledger to min(credited, refunds + standing disputes); return the cents moved.

    Called with the TopUp row locked and its Stripe figures just updated. Positive: taken out
    of the wallet into Stripe clearing (the wallet may go negative); negative: given back.
    Each key names a fact that happens once (a refund total, a dispute, its win).
    """
    target = min(top_up.amount_cents, top_up.refunded_cents + top_up.disputed_cents)
    delta = target - top_up.reversed_cents
    if delta == 0:
        return 0
    nanos = top_up_nanos(delta)
    post_transaction(
        top_up.org,
        kind=kind,
        idempotency_key=key,
        legs=[
            Leg(wallet_ledger_account(top_up.org), -nanos),
            Leg(system_account(AccountKind.STRIPE_CLEARING), nanos),
        ],
        memo=memo,
        metadata={"top_up_id": top_up.pk},
    )
    top_up.reversed_cents = target
    TopUp.objects.filter(pk=top_up.pk).update(reversed_cents=target)
    return delta


_HANDLERS = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
