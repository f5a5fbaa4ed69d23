"""Staff sign in through allauth (TOTP, rate limits) and reach the admin only with MFA passed."""

import uuid

import pytest
from django.contrib.messages import get_messages

from tests.staff import current_code, sign_in_with_mfa, staff_user
from tests.tenancy.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # allauth keeps rate limits and used codes in the cache: one of our own per test.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": uuid.uuid4().hex}}


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_takes_no_password_and_forwards_to_allauth(client):
    staff = staff_user(is_superuser=True)

    response = client.post("/admin/login/?next=/admin/catalog/",
                           {"username": staff.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcatalog%2F"
    assert not _signed_in(client)
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=https://evil.test/")["Location"] == (
        "/accounts/login/?next=%2Fadmin%2F")


def test_staff_sign_in_from_the_admin_needs_the_totp_code(client):
    staff = staff_user()

    to_login = client.get("/admin/login/?next=/admin/")["Location"]
    assert to_login == "/accounts/login/?next=%2Fadmin%2F"
    response = client.post(to_login, {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not _signed_in(client)
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"

    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert not _signed_in(client)
    response = client.post("/accounts/2fa/authenticate/",
                           {"code": current_code(staff.totp_secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_failed_guesses_lock_staff_out_of_every_login(client):
    staff = staff_user(is_superuser=True)
    for _ in range(5):  # allauth's default: 5 failures per login per 5 minutes
        assert client.post("/accounts/login/", {"login": staff.email, "password": "guess"}
                           ).status_code == 200

    refused = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})

    assert refused.status_code == 200
    assert "Too many failed login attempts" in refused.content.decode()
    assert not _signed_in(client)


def test_staff_without_an_authenticator_are_sent_to_activate_one(client):
    staff = staff_user(totp=False, is_superuser=True)
    client.force_login(staff)

    for path in ("/admin/", "/admin/catalog/provider/", "/admin/billing/wallet/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == (
            f"/accounts/2fa/totp/activate/?next={path.replace('/', '%2F')}")
    message = str(list(get_messages(response.wsgi_request))[-1])
    assert message.startswith("Staff accounts need two-factor authentication")


def test_staff_session_without_the_second_factor_must_enter_a_code(client):
    staff = staff_user(is_superuser=True)
    client.force_login(staff)  # a password-only session

    response = client.get("/admin/catalog/")
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2Fcatalog%2F"
    response = client.post(response["Location"], {"code": current_code(staff.totp_secret)})

    assert response["Location"] == "/admin/catalog/"
    assert client.get("/admin/catalog/").status_code == 200


def test_signed_in_non_staff_are_refused_without_a_redirect_loop(client):
    client.force_login(UserFactory())

    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_staff_signed_in_with_mfa_use_the_admin_and_can_sign_out(client):
    sign_in_with_mfa(client, staff_user(is_superuser=True))

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/login/?next=/admin/catalog/")["Location"] == "/admin/catalog/"
    assert client.post("/admin/logout/").status_code == 200
    assert not _signed_in(client)
