"""The dashboard's Content-Security-Policy, pages with no inline script, and API docs served
from our own static files (drf-spectacular-sidecar), not a CDN."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from marketplace.tenancy.models import Role
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

STRIPE_ON = {
    "STRIPE_SECRET_KEY": "sk_test_csp",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_csp",
    "STRIPE_WEBHOOK_SECRET": "whsec_csp",
}


class _Tags(HTMLParser):
    """Collect every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: bytes) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html.decode())
    return parser.tags


def _policy(response) -> dict[str, set[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_a_dashboard_page_sends_the_policy(client):
    client.force_login(member(Role.OWNER).user)

    policy = _policy(client.get("/dashboard/"))

    assert policy["default-src"] == {"'self'"}
    # Our scripts and Stripe.js only: nothing inline, nothing evaluated.
    assert policy["script-src"] == {"'self'", _origin(settings.STRIPE_JS_URL)}
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= policy["frame-src"]
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"}


def test_pages_have_no_inline_scripts_or_event_handlers(client, settings):
    for name, value in STRIPE_ON.items():
        setattr(settings, name, value)
    client.force_login(member(Role.OWNER).user)
    created = client.post("/dashboard/keys/", {"name": "laptop", "scope": "inference"})
    pages = {"/dashboard/keys/ (new key)": created}
    for path in ("/dashboard/", "/dashboard/members/", "/dashboard/settings/", "/billing/wallet/",
                 "/billing/invoices/", "/billing/usage/", "/models", "/api/docs/",
                 "/accounts/email/", "/accounts/2fa/"):
        pages[path] = client.get(path)
    client.logout()
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        pages[path] = client.get(path)

    # The wallet page with top-ups on loads Stripe.js and our own wallet.js.
    wallet_scripts = [a.get("src") for t, a in _tags(pages["/billing/wallet/"].content)
                      if t == "script"]
    assert wallet_scripts[-2:] == [settings.STRIPE_JS_URL, "/static/js/wallet.js"]
    for path, response in pages.items():
        assert response.status_code == 200, path
        for tag, attrs in _tags(response.content):
            handlers = [a for a in attrs if a.startswith("on")]
            assert not handlers, (path, tag, handlers)
            assert not (attrs.get("href") or "").startswith("javascript:"), (path, attrs)
            if tag == "script":
                # Data blocks (allauth's JSON) never run; every other script is a file.
                assert attrs.get("src") or attrs.get("type") == "application/json", (path, attrs)


def test_api_docs_load_only_our_own_static_files(client):
    page = client.get("/api/docs/")

    urls = [attrs.get("src") or attrs.get("href") for tag, attrs in _tags(page.content)
            if tag in ("script", "link")]
    assert urls == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/docs/?script=",
    ]
    for url in urls[:-1]:
        assert finders.find(url.removeprefix("/static/")), url
    script = client.get(urls[-1])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content
