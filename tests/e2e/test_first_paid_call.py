"""Browser, from a fresh database: a new developer signs up, confirms, creates an org (which
receives the sign-up credit), takes the first key the overview offers, makes a paid call with
the openai SDK through the gateway, then tops up $10 through localstripe with 4242 4242 4242
4242 and sees the balance, the overview's chart and this month's draft invoice move (issue 12,
"Getting started", "Overview" and "Money on screen").
"""

import re
import uuid

import openai
import pytest
from playwright.sync_api import expect

from billing.models import LedgerTransaction, UsageRecord, Wallet
from core.money import dashboard_usd, dashboard_usd_exact
from marketplace.tenancy.models import Organization
from tests.e2e.test_billing_flow import fill_card, register_webhook
from tests.gateway.conftest import build_sandbox_catalog
from tests.gateway.helpers import wait_usage_record

pytestmark = pytest.mark.browser

PASSWORD = "a-long-and-unusual-passphrase-78"
DOLLAR = 10**9


@pytest.fixture
def stripe_env(localstripe):
    """STRIPE_* for the server child (tests/fixtures/live_server.py reads this fixture)."""
    return localstripe.env


def _confirmation_path(server, email: str) -> str:
    emails = [e for e in server.read_emails() if email in e.to]
    assert len(emails) == 1, [e.subject for e in server.read_emails()]
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", emails[0].body)
    assert match is not None, emails[0].body
    return match.group(1)


def _draft_amount(page, url: str) -> tuple[str, str]:
    """This month's draft invoice: (exact figure on hover, figure shown)."""
    page.goto(f"{url}/billing/invoices/")
    cell = page.locator("#invoice-current .invoice-amount")
    return cell.get_attribute("title"), cell.inner_text()


def _charted(page, url: str) -> dict[str, int]:
    """The overview chart's series -> nanos over the 30 days, as Chart.js holds them."""
    page.goto(f"{url}/dashboard/")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('spend-chart'))")
    series = page.evaluate("""() => Chart.getChart(document.getElementById('spend-chart'))
        .data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)])""")
    # Chart.js plots dollars as numbers; nine places recover the nanos exactly at these sizes.
    return {label: round(total * DOLLAR) for label, total in series}


def test_sign_up_to_a_paid_call_then_top_up(localstripe, start_gateway_server, sandbox_server,
                                            browser_page):
    build_sandbox_catalog()
    server = start_gateway_server(SIGNUP_CREDIT_USD="1")
    register_webhook(localstripe, server.url)
    url, page = server.url, browser_page
    email = f"e2e-paid-{uuid.uuid4().hex[:8]}@example.com"

    # Sign up and confirm the address from the outbox.
    page.goto(f"{url}/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(f"{url}/accounts/confirm-email/")
    page.goto(url + _confirmation_path(server, email))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{url}/dashboard/organizations/new/")

    # A new org: $0 before, the sign-up credit after, and nothing else on its ledger.
    assert not Organization.objects.filter(name="Paid Labs").exists()
    page.get_by_label("Organization name").fill("Paid Labs")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(f"{url}/dashboard/")
    org = Organization.objects.get(name="Paid Labs")
    assert list(LedgerTransaction.objects.filter(org=org).values_list(
        "kind", "wallet_delta_nanos")) == [("promotional_credit", DOLLAR)]
    page.goto(f"{url}/billing/wallet/")
    expect(page.locator("#wallet-balance")).to_have_text("$1.00")
    assert _draft_amount(page, url) == ("$0.000000000", "$0.00")

    # The first key, offered by the overview's quick start and shown there once.
    page.goto(f"{url}/dashboard/")
    expect(page.locator("#chart-empty")).to_be_visible()
    page.get_by_role("button", name="Create my first key").click()
    shown = page.get_by_test_id("new-api-key")
    shown.wait_for()
    key = shown.inner_text().strip()

    # A call with the openai SDK, paid by the sign-up credit.
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}],
        extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}})
    assert completion.choices[0].message.content
    charge = wait_usage_record(completion.id, timeout_s=15).charge_nanos
    assert UsageRecord.objects.get(request_id=completion.id).org_id == org.pk
    assert 0 < charge < DOLLAR
    assert Wallet.objects.get(org=org).balance_nanos == DOLLAR - charge

    # The draft invoice's running total moved at once (no hourly roll), exact on hover, and
    # the overview charts the spend under the model.
    assert _draft_amount(page, url) == (dashboard_usd_exact(charge), dashboard_usd(charge))
    assert _charted(page, url) == {"openai/gpt-4o-mini": charge}

    # Top up $10 with the test card; the verified webhook credits it and the page shows it.
    page.goto(f"{url}/billing/wallet/")
    balance = page.locator("#wallet-balance")
    assert balance.get_attribute("data-nanos") == str(DOLLAR - charge)
    page.fill("#topup-amount", "10.00")
    fill_card(page, "4242424242424242")
    page.click("#topup-submit")
    expect(balance).to_have_attribute("data-nanos", str(11 * DOLLAR - charge), timeout=30_000)
    expect(balance).to_have_text(dashboard_usd(11 * DOLLAR - charge))
    assert LedgerTransaction.objects.filter(org=org, kind="top_up").count() == 1

    # A second call moves the draft's running total again.
    second = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Count to five"}],
        extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}})
    more = wait_usage_record(second.id, timeout_s=15).charge_nanos
    assert _draft_amount(page, url) == (dashboard_usd_exact(charge + more),
                                        dashboard_usd(charge + more))
    assert _charted(page, url) == {"openai/gpt-4o-mini": charge + more}
