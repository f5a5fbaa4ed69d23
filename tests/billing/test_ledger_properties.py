"""A stateful property test: random top-ups, credits, holds, settlements, releases, refunds
and postings never unbalance the ledger or the cached wallet balance.

Each example works on a fresh organization, so examples share the test database safely.
"""

import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from billing.hotpath import Admission, Settlement
from billing.models import LedgerEntry, TopUp, Wallet
from billing.pricing import compute_charge
from billing.services.holds import place_hold, release_hold, settle_hold
from billing.services.ledger import (
    check_wallet_consistency,
    ensure_wallet,
    grant_promotional_credit,
    post_usage_records,
)
from billing.services.webhooks import handle_event
from core.errors import InsufficientCredits
from marketplace.tenancy.models import ApiKey, Organization

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


class WalletMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    paid = Bundle("paid")

    def __init__(self):
        super().__init__()
        n = next(_ids)
        self.org = Organization.objects.create(name=f"prop {n}", slug=f"prop-{n}")
        ensure_wallet(self.org)
        self.key = ApiKey.objects.create(
            org=self.org, name="k", prefix=f"sk-sy-p{n}", key_hash=f"p{n:063x}"
        )

    @rule(target=paid, cents=st.integers(min_value=1, max_value=50_000))
    def top_up(self, cents):
        n = next(_ids)
        top_up = TopUp.objects.create(org=self.org, payment_intent_id=f"pi_{n}",
                                      amount_cents=cents)
        intent = {"id": top_up.payment_intent_id, "amount": cents, "currency": "usd",
                  "status": "succeeded", "metadata": {"org_id": str(self.org.pk)},
                  "latest_charge": f"ch_{n}"}
        for _ in range(2):  # a replayed event changes nothing
            handle_event({"type": "payment_intent.succeeded", "data": {"object": intent}})
        return top_up

    @rule(top_up=paid, fraction=st.integers(min_value=1, max_value=100))
    def refund(self, top_up, fraction):
        top_up.refresh_from_db()
        refunded = max(top_up.refunded_cents, top_up.amount_cents * fraction // 100)
        charge = {"id": top_up.charge_id, "payment_intent": top_up.payment_intent_id,
                  "amount": top_up.amount_cents, "amount_refunded": refunded}
        handle_event({"type": "charge.refunded", "data": {"object": charge}})

    @rule(nanos=st.integers(min_value=1, max_value=10**10))
    def promo(self, nanos):
        grant_promotional_credit(self.org, nanos, memo="", idempotency_key=f"g{next(_ids)}")

    @rule(target=holds, want=st.integers(min_value=1, max_value=10**10), byok=st.booleans())
    def hold(self, want, byok):
        request_id = f"prop-req-{next(_ids)}"
        try:
            granted = place_hold(Admission(
                request_id=request_id, org_id=self.org.pk, key_id=self.key.pk,
                want_nanos=want, min_nanos=1, model_slug="m/x", endpoint_id=None,
                price_id=None, prompt_upper_bytes=10, output_allowance_tokens=10,
                deadline_s=60.0, is_byok=byok, provider_slug="prov",
            ))
        except InsufficientCredits:
            granted = 0
        return (request_id, granted, byok)

    @rule(hold=consumes(holds), upstream=st.integers(min_value=0, max_value=2 * 10**10),
          waived=st.booleans())
    def settle(self, hold, upstream, waived):
        request_id, granted, byok = hold
        if not granted:
            return
        split = compute_charge(upstream, bps=550, is_byok=byok, byok_fee_bps=500, waived=waived)
        settle_hold(Settlement(
            request_id=request_id, org_id=self.org.pk, key_id=self.key.pk, hold_nanos=granted,
            requested_model="m/x", served_model="m/x", endpoint_id=None, provider_slug="prov",
            price_id=None, prompt_tokens=1, completion_tokens=1, cache_read_tokens=0,
            cache_write_tokens=0, reasoning_tokens=0,
            upstream_cost_nanos=split.upstream_cost_nanos, margin_nanos=split.margin_nanos,
            byok_fee_nanos=split.byok_fee_nanos, charge_nanos=split.charge_nanos,
            write_off_nanos=split.write_off_nanos, latency_ms=1, ttft_ms=1,
            finish_reason="error" if waived else "stop", streamed=False, cancelled=False,
            is_byok=byok, estimated=False,
        ))

    @rule(hold=consumes(holds))
    def release(self, hold):
        release_hold(hold[0])

    @rule()
    def post(self):
        post_usage_records(batch_size=3)

    @invariant()
    def wallet_matches_ledger(self):
        report = check_wallet_consistency(self.org)
        assert report.balance_ok, report
        assert report.holds_ok, report

    @invariant()
    def every_transaction_balances(self):
        sums = (LedgerEntry.objects.filter(org=self.org).values("transaction")
                .annotate(total=Sum("amount_nanos")).exclude(total=0))
        assert list(sums) == []

    @invariant()
    def never_below_credit_limit_without_a_reversal(self):
        wallet = Wallet.objects.get(org=self.org)
        reversed_nanos = sum(
            t.refunded_cents for t in TopUp.objects.filter(org=self.org)
        ) * 10_000_000
        assert wallet.balance_nanos + wallet.credit_limit_nanos + reversed_nanos >= 0


@pytest.mark.timeout(400)
def test_ledger_always_balances():
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=15, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
