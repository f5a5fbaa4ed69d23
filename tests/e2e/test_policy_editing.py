"""Browser: an admin sets an EU-only policy that forbids training on prompts, sees the new
version in the history and opens it; a viewer sees the same policy, read-only."""

import pytest
from playwright.sync_api import expect

from compliance.models import OrgPolicy
from marketplace.tenancy.models import Role
from tests.compliance.policy_fixtures import build_policy_catalog
from tests.e2e.test_billing_flow import signed_in
from tests.tenancy.factories import member

pytestmark = pytest.mark.browser


def test_an_admin_sets_an_eu_only_policy(start_gateway_server, browser_page, tmp_path):
    build_policy_catalog()
    admin = member(Role.ADMIN)
    viewer = member(Role.VIEWER, org=admin.org)
    server = start_gateway_server()
    page = browser_page
    signed_in(page, server.url, admin.user)
    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="Policy", exact=True).click()
    expect(page.locator("#policy-version")).to_have_text("No policy saved yet")
    page.get_by_label("eu", exact=True).check()
    page.get_by_label("No providers that train on prompts").check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".message")).to_have_text(
        "Saved the organization's policy as version 1.")
    page.screenshot(path=str(tmp_path / "policy.png"), full_page=True)
    policy = OrgPolicy.objects.get(org=admin.org)
    assert (policy.regions, policy.deny_training) == (["eu"], True)
    assert page.get_by_label("eu", exact=True).is_checked()
    expect(page.locator("#version-1")).to_contain_text(admin.user.email)
    page.get_by_role("link", name="v1").click()
    expect(page.locator("#field-regions")).to_contain_text("eu")

    page.context.clear_cookies()
    signed_in(page, server.url, viewer.user)
    page.goto(f"{server.url}/compliance/policy/")
    expect(page.locator("#policy-read-only")).to_be_visible()
    assert page.get_by_label("eu", exact=True).is_disabled()
    assert page.get_by_label("eu", exact=True).is_checked()
    expect(page.get_by_role("button", name="Save policy")).to_have_count(0)
