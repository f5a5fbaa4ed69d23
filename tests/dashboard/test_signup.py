"""Sign-up with email and password: mandatory verification, then "create your organization"."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.tenancy.factories import PASSWORD as FACTORY_PASSWORD
from tests.tenancy.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase-91"


def _signup(client, email):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_signup_confirm_and_create_an_organization(client):
    response = _signup(client, "new@example.com")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    # Not signed in until the address is confirmed.
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    link = re.search(r"http://\S+/accounts/confirm-email/(\S+)/", mail.outbox[0].body)
    assert link is not None
    confirm_path = link.group(0).split("testserver", 1)[1]
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)
    assert response.status_code == 302
    # Signed in now, with no organization yet: asked to create one.
    assert client.get("/dashboard/")["Location"] == "/dashboard/organizations/new/"
    response = client.post("/dashboard/organizations/new/", {"name": "Newco"})
    assert response["Location"] == "/dashboard/"
    assert b"Newco" in client.get("/dashboard/").content


def test_duplicate_email_is_a_form_error(client):
    UserFactory(email="taken@example.com")
    response = _signup(client, "Taken@Example.com")
    assert response.status_code == 200
    assert "already registered" in " ".join(response.context["form"].errors["email"])
    assert get_user_model().objects.filter(email__iexact="taken@example.com").count() == 1


def test_unverified_user_cannot_sign_in(client):
    UserFactory(email="unverified@example.com", verified=False)
    response = client.post(
        "/accounts/login/", {"login": "unverified@example.com", "password": FACTORY_PASSWORD}
    )
    # Mandatory verification: a fresh confirmation mail instead of a session.
    assert response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in mail.outbox] == [["unverified@example.com"]]
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")


def test_login_page_renders_in_our_layout(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "switchyard.css" in html
    assert 'href="/accounts/signup/' in html
