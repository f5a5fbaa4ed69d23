"""Refunds and disputes of one payment, delivered three times each in every order.

Stripe delivers at least once, in any order, and redelivers what we answer non-2xx (a refund
before the payment's success is deferred with 409). Each scenario's events go through the
signed webhook in every permutation, each event three times, with 409s redelivered after the
rest. Whatever the order: the payment is credited once, reversals together never exceed it,
a won dispute gives back what it held, once, and the end state is exact.
"""

import itertools

import pytest

from billing.models import LedgerEntry, LedgerTransaction, TopUp, TopUpDispute, Wallet
from billing.services.ledger import check_wallet_consistency

pytestmark = pytest.mark.django_db

CENT = 10_000_000  # nanos
PAID = 1_000  # a $10 top-up, in cents

_seq = itertools.count(1)


def _events(scenario: list[tuple[str, dict]], org, top_up) -> list[tuple[str, dict]]:
    pi, charge = top_up.payment_intent_id, f"ch_{top_up.payment_intent_id}"
    objects = {
        "paid": ("payment_intent.succeeded", {
            "id": pi, "object": "payment_intent", "amount": PAID, "currency": "usd",
            "status": "succeeded", "latest_charge": charge,
            "metadata": {"org_id": str(org.pk), "purpose": "wallet_top_up"}}),
    }
    for name, fields in scenario:
        kind, *rest = name.split(":")
        if kind == "refund":
            objects[name] = ("charge.refunded", {
                "id": charge, "object": "charge", "payment_intent": pi, "amount": PAID,
                "amount_refunded": fields["refunded"]})
        else:
            dispute_id = f"dp_{pi}_{rest[0]}"
            event = "charge.dispute.created" if kind == "dispute" else "charge.dispute.closed"
            objects[name] = (event, {
                "id": dispute_id, "object": "dispute", "amount": fields["amount"],
                "charge": charge, "payment_intent": pi,
                "status": fields.get("status", "needs_response")})
    return list(objects.items())


def _deliver(send_event, order):
    """Each event three times in this order; answers of 409 are redelivered at the end."""
    queue = [event for event in order for _ in range(3)]
    deliveries = 0
    while queue:
        deliveries += 1
        assert deliveries < 200, "events were never accepted"
        name, (event_type, obj) = queue.pop(0)
        response = send_event(event_type, obj)
        assert response.status_code in (200, 409), (name, response.content)
        if response.status_code == 409:
            queue.append((name, (event_type, obj)))
    return deliveries


SCENARIOS = {
    # The issue's $10 payment reversed $30: a full refund and two disputes take back $10.
    "refund_and_two_disputes": (
        [("refund", {"refunded": PAID}), ("dispute:a", {"amount": PAID}),
         ("dispute:b", {"amount": PAID})],
        {"balance": 0, "refunded": PAID, "disputed": 2 * PAID, "reversed": PAID,
         "disputes": {"a": "open", "b": "open"}},
    ),
    # A won dispute gives back what it held; the partial refund stays taken.
    "dispute_won_after_a_partial_refund": (
        [("refund", {"refunded": 300}), ("dispute:a", {"amount": PAID}),
         ("closed:a", {"amount": PAID, "status": "won"})],
        {"balance": PAID - 300, "refunded": 300, "disputed": 0, "reversed": 300,
         "disputes": {"a": "won"}},
    ),
    # A lost dispute keeps what it took and changes nothing further; another one is won.
    "one_dispute_lost_one_won": (
        [("dispute:a", {"amount": 600}), ("closed:a", {"amount": 600, "status": "lost"}),
         ("closed:b", {"amount": 400, "status": "won"})],
        {"balance": PAID - 600, "refunded": 0, "disputed": 600, "reversed": 600,
         "disputes": {"a": "lost", "b": "won"}},
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_reversals_end_exact_in_every_order_of_thrice_delivered_events(
    name, make_org, stripe_on, send_event
):
    scenario, want = SCENARIOS[name]
    orders = 0
    for order_index in itertools.permutations(range(len(scenario) + 1)):
        org = make_org()
        top_up = TopUp.objects.create(
            org=org, payment_intent_id=f"pi_rev_{next(_seq)}", amount_cents=PAID
        )
        events = _events(scenario, org, top_up)
        order = [events[i] for i in order_index]

        _deliver(send_event, order)

        orders += 1
        top_up.refresh_from_db()
        wallet = Wallet.objects.get(org=org)
        assert wallet.balance_nanos == want["balance"] * CENT, (name, order_index)
        assert (top_up.status, top_up.refunded_cents, top_up.disputed_cents,
                top_up.reversed_cents) == (
            "succeeded", want["refunded"], want["disputed"], want["reversed"]), order_index
        disputes = dict(TopUpDispute.objects.filter(top_up=top_up)
                        .values_list("dispute_id", "status"))
        assert disputes == {f"dp_{top_up.payment_intent_id}_{k}": v
                            for k, v in want["disputes"].items()}
        txns = LedgerTransaction.objects.filter(org=org)
        # One credit; every reversal posting moves money (none empty), and they net exactly.
        top_ups = [t.wallet_delta_nanos for t in txns if t.kind == "top_up"]
        assert top_ups == [PAID * CENT]
        reversals = [t for t in txns if t.kind != "top_up"]
        assert {t.kind for t in reversals} <= {"refund", "dispute"}
        assert sum(t.wallet_delta_nanos for t in reversals) == -want["reversed"] * CENT
        assert all(t.wallet_delta_nanos for t in reversals)
        # At most one posting per fact: a refund total, a dispute, its win.
        keys = [t.idempotency_key for t in reversals]
        assert len(keys) == len(set(keys)) <= len(scenario) + 1
        entries = LedgerEntry.objects.filter(org=org)
        assert sum(e.amount_nanos for e in entries) == 0
        assert sum(e.amount_nanos for e in entries if e.account.kind == "wallet") == (
            wallet.balance_nanos)
        assert check_wallet_consistency(org).ok
    assert orders == 24


def test_reversals_never_exceed_the_credit_at_any_point(make_org, stripe_on, send_event):
    org = make_org()
    top_up = TopUp.objects.create(org=org, payment_intent_id="pi_rev_cap", amount_cents=PAID)
    scenario = [("refund", {"refunded": 300}), ("dispute:a", {"amount": PAID}),
                ("dispute:b", {"amount": 200}), ("closed:a", {"amount": PAID, "status": "won"})]
    events = dict(_events(scenario, org, top_up))
    seen = []
    for name in ["paid", "dispute:a", "refund", "dispute:b", "closed:a", "closed:a", "refund"]:
        event_type, obj = events[name]
        assert send_event(event_type, obj).status_code == 200
        seen.append(Wallet.objects.get(org=org).balance_nanos // CENT)
    # Credited 1000; the first dispute takes it all, so the refund and the second dispute find
    # nothing left to take; its win gives back all but what those two hold (300 + 200).
    assert seen == [PAID, 0, 0, 0, 500, 500, 500]
    top_up.refresh_from_db()
    assert (top_up.refunded_cents, top_up.disputed_cents, top_up.reversed_cents) == (
        300, 200, 500)
