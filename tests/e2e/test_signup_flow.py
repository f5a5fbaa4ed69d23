"""The whole onboarding in real Chromium against the real ASGI app (uvicorn child).

Sign up, confirm the address from the server's outbox, create an organization, create an API
key and see it exactly once, call `GET /v1/models` with it (200), revoke it from the dashboard,
and see the same call refused (401, OpenAI-style error).
"""

import re
import time
import uuid

import httpx
import pytest

# New on every run: allauth rate-limits confirmation mail per address for minutes in the cache
# (Redis, which outlives the run), so a rerun with the same address got no mail.
EMAIL = f"e2e-signup-{uuid.uuid4().hex[:8]}@example.com"
PASSWORD = "a-long-and-unusual-passphrase-77"
# Revocation must take effect at once across processes (ARCHITECTURE.md, "The hot path",
# step 1: within a second).
REVOCATION_DEADLINE_S = 1.0


def _models(url: str, key: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _confirmation_path(server) -> str:
    emails = [e for e in server.read_emails() if EMAIL in e.to]
    assert len(emails) == 1, [e.subject for e in server.read_emails()]
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", emails[0].body)
    assert match is not None, emails[0].body
    return match.group(1)


@pytest.mark.browser
def test_sign_up_create_org_and_key_use_it_then_revoke_it(live_gateway_server, browser_page):
    url, page = live_gateway_server.url, browser_page

    page.goto(f"{url}/accounts/signup/")
    page.get_by_label("Email").fill(EMAIL)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(f"{url}/accounts/confirm-email/")

    page.goto(url + _confirmation_path(live_gateway_server))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{url}/dashboard/organizations/new/")

    page.get_by_label("Organization name").fill("E2E Labs")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(f"{url}/dashboard/")
    assert page.get_by_role("heading", name="E2E Labs").is_visible()

    page.get_by_role("link", name="API keys").click()
    page.wait_for_url(f"{url}/dashboard/keys/")
    page.get_by_label("Name").fill("browser key")
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_test_id("new-api-key")
    shown.wait_for()
    key = shown.inner_text().strip()
    assert re.fullmatch(r"sk-sy-[A-Za-z0-9_-]{40,}", key)

    # Shown once: a fresh load lists the key by prefix only.
    page.goto(f"{url}/dashboard/keys/")
    html = page.content()
    assert key not in html
    assert key[:14] in html

    response = _models(url, key)
    assert response.status_code == 200, response.text

    # Revoking asks on a page of its own (no script needed), then says what happened.
    page.get_by_role("link", name="Revoke key browser key").click()
    page.get_by_role("button", name="Revoke key").click()
    page.locator("#keys-section .badge.off").wait_for()
    revoked_at = time.monotonic()

    while True:
        response = _models(url, key)
        if response.status_code != 200 or time.monotonic() - revoked_at > REVOCATION_DEADLINE_S:
            break
        time.sleep(0.05)
    assert response.status_code == 401, response.text
    assert set(response.json()["error"]) >= {"code", "message", "type"}
