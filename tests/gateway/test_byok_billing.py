"""BYOK billing: a request served with the org's own key is charged exactly the BYOK fee, on
the usage record, the ledger, the wallet and the invoice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import openai
import pytest
from django.conf import settings

from billing.models import Hold, Invoice, InvoiceLine, LedgerEntry, Wallet
from billing.models.ledger import AccountKind
from billing.services.invoices import finalize_due_invoices
from billing.tasks.invoicing import roll_usage_into_invoices
from tests.gateway.conftest import MINI_PRICE
from tests.gateway.helpers import wait_usage_record
from tests.gateway.test_byok_keys import add_key, fingerprint, new_key

pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")


def half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("stream", [False, True])
def test_the_charge_is_exactly_the_byok_fee(stream, sandbox_catalog, funded_key, gateway,
                                            sandbox):
    key = new_key()
    add_key(funded_key.org, key, always_use=True)
    balance_before = Wallet.objects.get(org=funded_key.org).balance_nanos
    sdk = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                        max_retries=0, timeout=60)
    body = {"model": "openai/gpt-4o-mini", "max_tokens": 60,
            "messages": [{"role": "user", "content": "Bill me the fee sandbox:tokens=45"}],
            "extra_body": {"provider": {"order": ["sandbox-openai"],
                                        "allow_fallbacks": False}}}
    if stream:
        chunks = list(sdk.chat.completions.create(stream=True, **body))
        request_id, usage = chunks[0].id, chunks[-1].model_dump()["usage"]
    else:
        answer = sdk.chat.completions.create(**body)
        request_id, usage = answer.id, answer.model_dump()["usage"]
    assert [r["credential_fingerprint"] for r in sandbox.control.requests("sandbox-openai")] \
        == [fingerprint(key)]

    record = wait_usage_record(request_id)
    # Independently, in Decimal: the list cost, then the fee on it, each rounded half up once.
    upstream = half_up((record.prompt_tokens * Decimal(MINI_PRICE["input_nanos_per_m"])
                        + record.completion_tokens * Decimal(MINI_PRICE["output_nanos_per_m"]))
                       / 1_000_000)
    fee = half_up(Decimal(upstream) * settings.BYOK_FEE_BPS / 10_000)
    assert record.completion_tokens == 45 and upstream > 0 and fee > 0
    assert record.is_byok
    assert (record.upstream_cost_nanos, record.margin_nanos, record.byok_fee_nanos,
            record.charge_nanos, record.write_off_nanos) == (upstream, 0, fee, fee, 0)
    assert usage["is_byok"] is True and Decimal(str(usage["cost"])) == Decimal(fee) / 10**9
    # The hold was sized at the fee (only the org's key may serve), and flagged BYOK so that
    # the stale-hold sweep would charge the fee too.
    hold = Hold.objects.get(request_id=request_id)
    per_m_in = half_up(Decimal(MINI_PRICE["input_nanos_per_m"]) * settings.BYOK_FEE_BPS / 10_000)
    per_m_out = half_up(Decimal(MINI_PRICE["output_nanos_per_m"]) * settings.BYOK_FEE_BPS
                        / 10_000)
    worst = hold.prompt_upper_bytes * per_m_in + hold.output_allowance_tokens * per_m_out
    assert hold.is_byok and hold.output_allowance_tokens == 60
    assert hold.amount_nanos == -(-worst // 1_000_000) + 2  # + the rounding slack of costs.py

    roll_usage_into_invoices()  # posts to the ledger, then rolls into the open invoice
    entries = {(e.account.kind, e.amount_nanos) for e in LedgerEntry.objects.filter(
        transaction__idempotency_key=request_id).select_related("account")}
    # Only the fee moves: the org's own provider account paid the upstream, we owe nobody.
    assert {entry for entry in entries if entry[1] != 0} == {
        (AccountKind.WALLET, -fee), (AccountKind.BYOK_FEE_REVENUE, fee)}
    assert not any(kind == AccountKind.PROVIDER_PAYABLE for kind, _ in entries)
    assert Wallet.objects.get(org=funded_key.org).balance_nanos == balance_before - fee

    finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
    invoice = Invoice.objects.get(org=funded_key.org)
    lines = list(InvoiceLine.objects.filter(invoice=invoice).exclude(kind="credit"))
    assert [(line.kind, line.amount_nanos, line.byok_fee_nanos, line.margin_nanos)
            for line in lines] == [("byok_fee", fee, fee, 0)]
    assert invoice.charge_nanos == fee
