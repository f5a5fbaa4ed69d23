"""Browser: under the Content-Security-Policy the dashboard, the wallet's Stripe card field and
the API docs work with no violation, and nothing is fetched from another host (offline)."""

import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from billing.services.ledger import ensure_wallet
from marketplace.tenancy.models import Membership, Organization

pytestmark = pytest.mark.browser


@pytest.fixture
def stripe_env(localstripe):
    """STRIPE_* for the server child (tests/fixtures/live_server.py reads this fixture)."""
    return localstripe.env


def _watch(page, allowed_hosts: set[str]) -> tuple[list[str], list[str]]:
    """Record CSP violations and requests to other hosts (which are refused, as offline)."""
    violations, foreign = [], []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))

    def route(request_route):
        if urlsplit(request_route.request.url).netloc in allowed_hosts:
            request_route.continue_()
        else:
            foreign.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return violations, foreign


def test_dashboard_wallet_and_api_docs_work_under_the_policy(
    localstripe, start_gateway_server, browser_page
):
    org = Organization.objects.create(name="CSP Co", slug=f"csp-{uuid.uuid4().hex[:6]}")
    ensure_wallet(org)
    user = get_user_model().objects.create_user(
        username="csp-e2e", email="csp-e2e@example.com", password="pw-long-enough-1")
    Membership.objects.create(org=org, user=user, role="owner")
    server = start_gateway_server()
    session = Client()
    session.force_login(user)
    page = browser_page
    page.context.add_cookies([{"name": "sessionid", "value": session.cookies["sessionid"].value,
                               "url": server.url}])
    violations, foreign = _watch(page, {urlsplit(server.url).netloc,
                                        urlsplit(localstripe.url).netloc})

    page.goto(f"{server.url}/dashboard/keys/")
    page.fill("#id_name", "browser key")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-api-key")).to_contain_text("sk-sy-")

    page.goto(f"{server.url}/billing/wallet/")
    # wallet.js ran and Stripe.js (localstripe's) mounted the card field.
    expect(page.locator("#card-element").get_by_placeholder("number", exact=True)).to_be_visible()

    page.goto(f"{server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Switchyard management API")
    expect(page.locator(".opblock").first).to_be_visible()

    assert violations == []
    assert foreign == []
