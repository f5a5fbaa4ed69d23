"""allauth's pages (templates/account, templates/mfa and our allauth elements) share the site's
layout and form style: the skip link and header, our panels and button classes."""

import re

import pytest

from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

ANONYMOUS = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
SIGNED_IN = ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"]


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert '<a class="skip-link" href="#main">Skip to content</a>' in html, path
    assert '<main id="main" tabindex="-1"' in html and 'href="/docs/"' in html, path
    return html


def test_entrance_pages_use_the_site_layout(client):
    for path in ANONYMOUS:
        assert 'class="entrance"' in _page(client, path)


def test_account_pages_use_our_panels_and_buttons(client):
    client.force_login(member().user)
    pages = {path: _page(client, path) for path in SIGNED_IN}
    assert '<section class="panel">' in pages["/accounts/2fa/"]
    # "Activate" is a link styled as a button.
    assert re.search(r'<a href="/accounts/2fa/totp/activate/" class="button\b',
                     pages["/accounts/2fa/"])
    email = pages["/accounts/email/"]
    assert 'class="danger" name="action_remove"' in email
    assert 'class="secondary" name="action_send"' in email
