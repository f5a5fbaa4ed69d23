"""Money on the billing pages: the house formatters, the invoice total rounded with the exact
figure on hover and in the amount column, periods as "Nov 1 – Nov 30, 2026", and this month's
draft invoice visible at once with a running total computed on read (no roll needed)."""

import re
from datetime import UTC, datetime

import pytest

from billing.services.invoices import period_bounds
from billing.services.ledger import grant_promotional_credit
from billing.tasks.invoicing import roll_usage_into_invoices
from billing.templatetags.billing_periods import billing_period
from core.money import dashboard_usd, dashboard_usd_exact

pytestmark = pytest.mark.django_db
MINUS = "\u2212"


def test_periods_read_like_a_calendar_with_an_en_dash():
    nov = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert billing_period(*nov) == "Nov 1 \u2013 Nov 30, 2026"
    dec = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert billing_period(*dec) == "Dec 1 \u2013 Dec 31, 2026"
    span = (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC))
    assert billing_period(*span) == "Dec 15, 2026 \u2013 Jan 14, 2027"


def _current_row(page: str) -> str:
    match = re.search(r'<tr class="invoice-running" id="invoice-current">(.*?)</tr>', page, re.S)
    assert match, "no draft row for this month"
    return match.group(1)


def _amount_cell(row: str) -> tuple[str, str]:
    title, shown = re.search(r'<td class="num invoice-amount" title="([^"]+)">([^<]+)</td>',
                             row).groups()
    return title, shown


def test_this_months_draft_is_listed_at_once_with_a_running_total(
        org, member_client, charge_request, django_assert_max_num_queries):
    grant_promotional_credit(org, 5 * 10**9, memo="", idempotency_key="start")
    client = member_client(org, "finance")
    period = billing_period(*period_bounds(datetime.now(UTC)))

    empty = _current_row(client.get("/billing/invoices/").content.decode())
    assert period in empty and "Draft" in empty
    assert _amount_cell(empty) == ("$0.000000000", "$0.00")

    first = charge_request(org, upstream_nanos=1_234_567_891)  # not rolled: no invoice row yet
    with django_assert_max_num_queries(8):
        page = client.get("/billing/invoices/").content.decode()
    row = _current_row(page)
    assert "DRAFT-" not in row
    assert _amount_cell(row) == (dashboard_usd_exact(first.charge_nanos),
                                 dashboard_usd(first.charge_nanos))

    roll_usage_into_invoices()
    second = charge_request(org, upstream_nanos=10_000_000)  # after the roll: pending again
    total = first.charge_nanos + second.charge_nanos
    with django_assert_max_num_queries(8):
        page = client.get("/billing/invoices/").content.decode()
    row = _current_row(page)
    assert re.search(r">DRAFT-\d+</a>", row)
    assert _amount_cell(row) == (dashboard_usd_exact(total), dashboard_usd(total))
    assert re.search(r'<td class="num">2</td>', row)  # requests: rolled + pending
    assert page.count('id="invoice-current"') == 1


def test_invoice_detail_total_sits_in_the_amount_column_rounded_with_the_exact_on_hover(
        org, member_client, charge_request, finalized_invoice):
    invoice = finalized_invoice(org)
    page = member_client(org, "finance").get(f"/billing/invoices/{invoice.pk}/").content.decode()
    foot = re.search(r"<tfoot.*?</tfoot>", page, re.S).group(0)
    grand = re.search(r'<tr class="grand"><th colspan="8">[^<]+</th>(.*?)</tr>', foot).group(1)
    assert grand == (f'<td class="num" id="invoice-total" title="'
                     f'{dashboard_usd_exact(invoice.charge_nanos)}">'
                     f'{dashboard_usd(invoice.charge_nanos)}</td>')
    # Nine columns in every row: the totals line up under "Amount".
    assert page.count('<th colspan="8">') >= 4
    period = billing_period(invoice.period_start, invoice.period_end)
    assert f'<span id="invoice-period">{period}</span>' in page
    assert 'style="' not in page


def test_an_open_invoice_shows_usage_not_itemized_yet_in_its_running_total(
        org, member_client, charge_request):
    from billing.models import Invoice

    grant_promotional_credit(org, 5 * 10**9, memo="", idempotency_key="start")
    rolled = charge_request(org, upstream_nanos=2_000_000)
    roll_usage_into_invoices()
    pending = charge_request(org, upstream_nanos=3_000_000)
    invoice = Invoice.objects.get(org=org)
    page = member_client(org, "owner").get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert 'id="invoice-pending"' in page
    total = rolled.charge_nanos + pending.charge_nanos
    assert (f'id="invoice-total" title="{dashboard_usd_exact(total)}">'
            f'{dashboard_usd(total)}<') in page
    assert "Running total, this month so far" in page


def test_wallet_shows_dollars_and_cents_and_per_request_costs_with_a_true_minus(
        org, member_client, charge_request):
    grant_promotional_credit(org, 1_234_500_000_000, memo="big", idempotency_key="big")
    record = charge_request(org, upstream_nanos=284_360)  # $0.0003 with the 5.5% margin
    assert record.charge_nanos == 300_000
    roll_usage_into_invoices()  # posts the charge to the ledger's transaction list
    page = member_client(org, "owner").get("/billing/wallet/").content.decode()
    assert '>$1,234.50</td>' in page  # the credit, to the cent with separators
    assert f'title="{MINUS}$0.000300000">{MINUS}$0.0003</td>' in page  # the request's cost
    assert "$-" not in page and "-$" not in page
    assert 'id="wallet-balance" data-nanos="1234499700000">$1,234.50<' in page


def test_key_spend_limit_page_shows_cents_with_the_exact_on_hover(org, member_client, make_key):
    from billing.services.spend_limits import set_key_spend_limit
    from marketplace.tenancy.roles import Actor

    key = make_key(org)
    set_key_spend_limit(org=org, key_id=key.pk, limit_nanos=12_345_678_901, period="month",
                        actor=Actor(role="owner"))
    page = member_client(org, "owner").get(f"/billing/keys/{key.pk}/spend-limit/")
    page = page.content.decode()
    assert '<span title="$12.345678901">$12.35</span> per month' in page
