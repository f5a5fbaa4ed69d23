"""Browser: an admin sets an EU-only policy, sees the route explainer exclude every non-EU
endpoint (and say why), adds a BYOK key for the EU provider, and finds both changes in the
audit log, with the key shown by its last four characters only."""

import pytest
from playwright.sync_api import expect

from compliance.models import ByokKey
from marketplace.tenancy.models import AuditEntry, Role
from tests.compliance.policy_fixtures import build_policy_catalog
from tests.e2e.test_billing_flow import signed_in
from tests.tenancy.factories import member

pytestmark = pytest.mark.browser

BYOK_SECRET = "sk-blue-eu-browser-test-7Hq2"


def test_eu_only_policy_explained_byok_key_added_and_both_audited(start_gateway_server,
                                                                   browser_page, tmp_path):
    build_policy_catalog()
    admin = member(Role.ADMIN)
    server = start_gateway_server()
    page = browser_page
    signed_in(page, server.url, admin.user)

    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="Policy", exact=True).click()
    # "EU only": the EU provider's region and its endpoint's own, eu-central.
    page.get_by_label("eu", exact=True).check()
    page.get_by_label("eu-central", exact=True).check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".message")).to_have_text(
        "Saved the organization's policy as version 1.")

    page.get_by_role("link", name="Route explainer").click()
    page.get_by_label("Model").fill("acme/fast")
    page.get_by_role("button", name="Explain").click()
    candidates = page.locator("#candidates tbody tr")
    expect(candidates).to_have_count(1)
    expect(candidates.first).to_have_attribute("data-provider", "blue-eu")
    for provider in ("acme-us", "crane-cn"):
        row = page.locator(f'#excluded tbody tr[data-provider="{provider}"]')
        expect(row).to_contain_text("org_policy.regions")
    page.screenshot(path=str(tmp_path / "explain.png"), full_page=True)

    page.get_by_role("link", name="Provider keys").click()
    page.get_by_label("Provider").select_option("blue-eu")
    page.get_by_label("API key").fill(BYOK_SECRET)
    page.get_by_role("button", name="Save key").click()
    expect(page.locator("#byok-keys")).to_contain_text("7Hq2")
    assert BYOK_SECRET not in page.content()
    assert ByokKey.objects.filter(org=admin.org, provider__slug="blue-eu").count() == 1

    page.get_by_role("link", name="Audit log").click()
    table = page.locator("#audit-table")
    expect(table).to_contain_text("policy.updated")
    expect(table).to_contain_text("byok_key.added")
    assert BYOK_SECRET not in page.content()
    actions = set(AuditEntry.objects.filter(org=admin.org).values_list("action", flat=True))
    assert {"policy.updated", "byok_key.added"} <= actions
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
