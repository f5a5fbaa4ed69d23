"""Browser: top up a wallet through localstripe (card element, 3-D Secure via
confirmCardPayment, credited by localstripe's signed webhook), see the balance change, and
download the month's invoice as a PDF.
"""

import re
import uuid

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from billing.models import AutoTopUp, LedgerTransaction, TopUp, Wallet
from billing.services.ledger import ensure_wallet
from marketplace.tenancy.models import Membership, Organization

pytestmark = pytest.mark.browser

# localstripe asks for 3-D Secure on this card number, so the page must call confirmCardPayment.
CARD_3DS = "4000002760003184"


@pytest.fixture
def stripe_env(localstripe):
    """STRIPE_* for the server child (tests/fixtures/live_server.py reads this fixture)."""
    return localstripe.env


def signed_in(page, server_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server_url}]
    )


def register_webhook(localstripe, server_url: str) -> None:
    """Point localstripe's signed webhooks at the live server's endpoint."""
    hook = httpx.post(
        f"{localstripe.url}/_config/webhooks/{uuid.uuid4().hex[:10]}",
        data={"url": f"{server_url}/billing/stripe/webhook/",
              "secret": localstripe.env["STRIPE_WEBHOOK_SECRET"]},
        timeout=10,
    )
    assert hook.status_code == 200


def fill_card(page, number: str) -> None:
    card = page.locator("#card-element")
    for field, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                         ("cvc", "123"), ("postal_code", "10115")):
        card.get_by_placeholder(field, exact=True).fill(value)


def complete_3ds_when_asked(page) -> int:
    """Click localstripe's "Complete authentication" in each 3-D Secure prompt; return count."""
    clicked = 0
    button = page.get_by_role("button", name="Complete authentication")
    for _ in range(2):  # once for saving the card, once for the payment itself
        try:
            button.click(timeout=10_000)
            clicked += 1
        except Exception:  # noqa: BLE001 - no prompt came: the flow went on without one
            break
    return clicked


def test_top_up_then_download_invoice(localstripe, start_gateway_server, browser_page,
                                      charge_usage):
    org = Organization.objects.create(name="Browser Co", slug=f"browser-{uuid.uuid4().hex[:6]}",
                                      legal_name="Browser Co Ltd", tax_id="GB999")
    ensure_wallet(org)
    user = get_user_model().objects.create_user(
        username="finance-e2e", email="finance-e2e@example.com", password="pw-long-enough-1")
    Membership.objects.create(org=org, user=user, role="finance")
    server = start_gateway_server()
    register_webhook(localstripe, server.url)

    page = browser_page
    signed_in(page, server.url, user)
    page.goto(f"{server.url}/billing/wallet/")
    assert page.locator("#wallet-balance").inner_text() == "$0.00"
    page.fill("#topup-amount", "25.00")
    fill_card(page, CARD_3DS)
    page.click("#topup-submit")
    assert complete_3ds_when_asked(page) == 2

    # The page reloads once the verified webhook has credited the wallet. (A locator, not
    # wait_for_function: the page's Content-Security-Policy forbids the eval that would need.)
    expect(page.locator("#wallet-balance")).to_have_text("$25.00", timeout=30_000)
    assert Wallet.objects.get(org=org).balance_nanos == 25 * 10**9
    top_up = TopUp.objects.get(org=org)
    assert top_up.status == "succeeded"
    assert LedgerTransaction.objects.filter(org=org, kind="top_up").count() == 1
    assert AutoTopUp.objects.get(org=org).card_label.endswith("ending 3184")  # saved card

    charge_usage(org)
    page.goto(f"{server.url}/billing/invoices/")
    page.get_by_role("link", name=re.compile(r"^DRAFT-\d+$")).click()
    assert "Browser Co Ltd" in page.content()
    # WeasyPrint's first PDF in a fresh server process is slow on a loaded machine.
    with page.expect_download(timeout=90_000) as download:
        page.click("#invoice-pdf", timeout=90_000)
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


@pytest.fixture
def charge_usage(transactional_db):
    """Settle two requests through billing's charging services and roll them into the invoice."""
    from billing.hotpath import Admission, Settlement
    from billing.pricing import compute_charge
    from billing.services.holds import place_hold, settle_hold
    from billing.tasks.invoicing import roll_usage_into_invoices
    from marketplace.tenancy.models import ApiKey

    def charge(org):
        key = ApiKey.objects.create(org=org, name="e2e", prefix="sk-sy-e2e",
                                    key_hash=uuid.uuid4().hex * 2)
        for upstream in (1_500_000, 2_250_001):
            request_id = f"e2e-{uuid.uuid4().hex}"
            granted = place_hold(Admission(
                request_id=request_id, org_id=org.pk, key_id=key.pk, want_nanos=10**8,
                min_nanos=1, model_slug="openai/gpt-4o-mini", endpoint_id=None, price_id=None,
                prompt_upper_bytes=100, output_allowance_tokens=100, deadline_s=60.0,
                provider_slug="sandbox-openai",
            ))
            split = compute_charge(upstream, bps=550, is_byok=False, byok_fee_bps=500)
            settle_hold(Settlement(
                request_id=request_id, org_id=org.pk, key_id=key.pk, hold_nanos=granted,
                requested_model="openai/gpt-4o-mini", served_model="openai/gpt-4o-mini",
                endpoint_id=None, provider_slug="sandbox-openai", price_id=None,
                prompt_tokens=100, completion_tokens=20, cache_read_tokens=0,
                cache_write_tokens=0, reasoning_tokens=0,
                upstream_cost_nanos=split.upstream_cost_nanos, margin_nanos=split.margin_nanos,
                byok_fee_nanos=0, charge_nanos=split.charge_nanos, write_off_nanos=0,
                latency_ms=5, ttft_ms=2, finish_reason="stop", streamed=False,
                cancelled=False, is_byok=False, estimated=False,
            ))
        roll_usage_into_invoices()

    return charge
