"""Browser: the skip link, visible keyboard focus and a sign-in done with the keyboard alone,
on allauth's pages in our one form style."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "Correct-Horse-Battery-9"


def _outline(locator) -> tuple[str, str]:
    return locator.evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]")


def test_keyboard_user_skips_the_header_sees_focus_and_signs_in(start_gateway_server,
                                                                browser_page):
    user = get_user_model().objects.create_user(
        username="keys@example.com", email="keys@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    server = start_gateway_server()
    page = browser_page
    page.goto(f"{server.url}/accounts/login/")

    # The first Tab lands on the skip link, which appears on screen with a focus ring.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    assert _outline(skip)[0] != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # From the main content, Tab reaches the form's first field: its focus is visible too.
    email = page.get_by_label("Email")
    for _ in range(5):
        page.keyboard.press("Tab")
        if email.evaluate("e => e === document.activeElement"):
            break
    expect(email).to_be_focused()
    style, width = _outline(email)
    assert style != "none" and width != "0px"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    # The primary action is one of our buttons: the accent colour, full width on this page.
    submit = page.locator("main form button[type=submit]")
    assert submit.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(36, 86, 214)"
    main_width = page.locator("main form").bounding_box()["width"]
    assert submit.bounding_box()["width"] == pytest.approx(main_width, abs=2)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(f"{server.url}/accounts/login/")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(user.email)

    # allauth's account pages use our panels and buttons.
    page.goto(f"{server.url}/accounts/2fa/")
    panel = page.locator("main section.panel").first
    expect(panel).to_be_visible()
    activate = panel.get_by_role("link", name="Activate")
    assert activate.evaluate("e => e.classList.contains('button')")
