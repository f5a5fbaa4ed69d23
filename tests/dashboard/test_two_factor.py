"""TOTP two-factor (allauth.mfa): activate it, then signing in asks for the code."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)

from tests.tenancy.factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def _current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # allauth remembers used codes in the cache; keep them out of a shared Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _sign_in(client, email):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_activate_totp_then_sign_in_needs_the_code(client):
    m = member()
    email = m.user.email
    assert _sign_in(client, email)["Location"] == "/dashboard/"
    # Security-sensitive: allauth asks for the password again before activation.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert "switchyard.css" in page.content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": _current_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=m.user, type="totp").exists()

    client.post("/accounts/logout/")
    response = _sign_in(client, email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    response = client.post("/accounts/2fa/authenticate/", {"code": _current_code(secret)})
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
