"""Invoices at catalog prices: lines and totals exact to the nano-dollar against an
independent Decimal computation, and the printed total rounded once to the cent.
"""

import json
import random
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from billing.models import Invoice, InvoiceLine
from billing.services.invoices import finalize_due_invoices
from billing.services.ledger import grant_promotional_credit
from billing.tasks.invoicing import roll_usage_into_invoices
from core.money import usage_cost_nanos

pytestmark = pytest.mark.django_db
CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "fixtures" / "catalog.json"


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.timeout(300)
def test_invoice_lines_and_printed_total_match_decimal(org, member_client, charge_request):
    data = json.loads(CATALOG.read_text())
    noisy = {entry["entry"].rsplit(":", 1)[0] for entry in data["header"]["rounded"]}
    endpoints = [e for e in data["endpoints"] if e["source_key"] not in noisy]
    rng = random.Random(5)
    grant_promotional_credit(org, 10**15, memo="", idempotency_key="seed")
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for endpoint in rng.sample(endpoints, 12):
        price, usd = endpoint["price"], endpoint["price"]["source_usd"]
        for _ in range(3):
            prompt, completion = rng.randint(1, 200_000), rng.randint(0, 30_000)
            upstream = usage_cost_nanos(
                prompt_tokens=prompt, completion_tokens=completion,
                input_nanos_per_m=price["input_nanos_per_m"],
                output_nanos_per_m=price["output_nanos_per_m"],
            )
            charge_request(org, upstream_nanos=upstream, margin_bps=550,
                           model=endpoint["model"], provider=endpoint["provider"],
                           hold_nanos=10**13)
            # Independently, from the source's USD-per-token strings, in Decimal.
            cost = half_up((prompt * Decimal(usd["input_nanos_per_m"])
                            + completion * Decimal(usd["output_nanos_per_m"])) * 10**9)
            expected[(endpoint["model"], endpoint["provider"])] += cost + half_up(
                Decimal(cost) * 550 / 10_000)

    roll_usage_into_invoices()
    finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
    invoice = Invoice.objects.get(org=org)
    got = {(line.model, line.provider): line.amount_nanos
           for line in InvoiceLine.objects.filter(invoice=invoice, kind="usage")}
    assert got == dict(expected)
    total = sum(expected.values())
    assert invoice.charge_nanos == total

    printed = (Decimal(total) / 10**9).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    page = member_client(org, "finance").get(f"/billing/invoices/{invoice.pk}/").content.decode()
    shown = re.search(r'id="invoice-total" title="[^"]+">\$([\d,]+\.\d\d)<', page).group(1)
    assert Decimal(shown.replace(",", "")) == printed
