"""The e2e harness itself: a real uvicorn child on the test database, seen from real Chromium."""

import asyncio
from pathlib import Path

import httpx
import pytest
from django.core import mail

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.browser
def test_login_page_renders_in_chromium_from_the_uvicorn_child(live_gateway_server, browser_page):
    response = browser_page.goto(f"{live_gateway_server.url}/accounts/login/")

    assert response is not None and response.status == 200
    assert browser_page.locator("input[type=password]").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SCREENSHOTS / "harness-login.png"), full_page=True)


def test_child_serves_v1_through_the_asgi_dispatch(live_gateway_server):
    # /v1 never reaches Django: an unauthenticated call gets the gateway's OpenAI-style error.
    response = httpx.get(f"{live_gateway_server.url}/v1/models", timeout=10)

    assert response.status_code in (401, 404)
    assert set(response.json()["error"]) >= {"code", "message", "type"}


def test_child_sees_rows_committed_by_the_test(live_gateway_server, django_user_model):
    django_user_model.objects.create_user(
        username="seen@example.com", email="seen@example.com", password="Correct-Horse-9"
    )
    server = live_gateway_server

    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.get("/accounts/login/")
        response = client.post(
            "/accounts/login/",
            data={
                "login": "seen@example.com",
                "password": "Correct-Horse-9",
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{server.url}/accounts/login/"},
        )

    # A successful login redirects; a user the child cannot see would re-render the form (200).
    assert response.status_code == 302
    assert "sessionid" in response.cookies


def test_child_writes_email_to_the_outbox(live_gateway_server):
    with httpx.Client(base_url=live_gateway_server.url, timeout=10) as client:
        client.get("/accounts/password/reset/")
        response = client.post(
            "/accounts/password/reset/",
            data={
                "email": "nobody@example.com",
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{live_gateway_server.url}/accounts/password/reset/"},
        )

    assert response.status_code == 302
    emails = live_gateway_server.read_emails()
    assert [e.to for e in emails] == [["nobody@example.com"]]
    assert mail.outbox == []  # it went to the child's outbox, not this process's


def test_child_serves_static_files_without_collectstatic(live_gateway_server):
    response = httpx.get(f"{live_gateway_server.url}/static/css/switchyard.css", timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


@pytest.mark.browser
def test_no_event_loop_is_left_running_after_a_browser_test(browser_page):
    # Playwright's sync API runs a loop in this thread only while the fixture is active: later
    # tests that call asyncio.run must not find one (the next test in this file checks).
    browser_page.set_content("<p>ok</p>")

    assert browser_page.text_content("p") == "ok"


def test_asyncio_run_works_after_a_browser_test():
    async def answer():
        return 42

    assert asyncio.run(answer()) == 42
