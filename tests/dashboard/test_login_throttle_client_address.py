"""The login throttle keys on the real client address, whatever X-Forwarded-For a client sends.

Against a real uvicorn child started like production (marketplace.serve): X-Forwarded-For is
believed only from TRUSTED_PROXIES. The child runs without Redis so its throttle counters live
and die with it and never touch another test's.
"""

import re

import httpx
import pytest

# allauth's default: 10 failed logins a minute per client address.
FAILED_LOGINS_PER_ADDRESS = 10
TOO_MANY = "Too many failed login attempts"


def _failed_login(client: httpx.Client, email: str, forwarded_for: str) -> str:
    """Post a wrong password for `email` claiming `forwarded_for`; return the page's text."""
    page = client.get("/accounts/login/", headers={"X-Forwarded-For": forwarded_for})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/",
        data={"login": email, "password": "not-the-password", "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-For": forwarded_for, "Referer": f"{client.base_url}/accounts/"},
    )
    assert response.status_code in (200, 429), response.status_code
    return response.text


@pytest.mark.parametrize("trusted_proxies", ["", "10.0.0.0/8,192.0.2.7"])
def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_throttle(
    start_gateway_server, trusted_proxies
):
    # The test talks to the server from 127.0.0.1, which is not a trusted proxy in either case.
    server = start_gateway_server(REDIS_URL="", TRUSTED_PROXIES=trusted_proxies)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        pages = [
            # A new address and a new account every time: only the peer address is constant.
            _failed_login(client, f"user{i}@example.com", f"203.0.113.{i + 1}")
            for i in range(FAILED_LOGINS_PER_ADDRESS + 1)
        ]

    assert [TOO_MANY in page for page in pages] == [False] * FAILED_LOGINS_PER_ADDRESS + [True]


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_forwarded_client(start_gateway_server):
    server = start_gateway_server(REDIS_URL="", TRUSTED_PROXIES="127.0.0.1")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        # The proxy appends the address it saw: a client's own entries to the left are ignored.
        first = [
            _failed_login(client, f"user{i}@example.com", f"198.51.100.{i}, 203.0.113.1")
            for i in range(FAILED_LOGINS_PER_ADDRESS + 1)
        ]
        other_client = _failed_login(client, "someone@example.com", "203.0.113.2")

    assert [TOO_MANY in page for page in first] == [False] * FAILED_LOGINS_PER_ADDRESS + [True]
    assert TOO_MANY not in other_client
