"""POST /listings/beacon/ end to end: our origin only, a valid ticket for this browser only,
204 whatever was billed, and the same view counted once."""

import json
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.test import Client

from billing.models import SponsoredCharge, Wallet
from marketplace.listings.models import AdEvent, Pricing
from marketplace.listings.tickets import viewer_key
from tests.listings.conftest import BROWSER_AGENT
from tests.listings.money_factories import USD, campaign, ticket, token, vendor
from tests.tenancy.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/listings/beacon/"
BROWSER = BROWSER_AGENT
OURS = {"HTTP_ORIGIN": "http://testserver", "HTTP_USER_AGENT": BROWSER}


@pytest.fixture
def signed_in():
    """A browser signed in as a user, and the viewer key its slots are served under."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    return client, viewer_key(SimpleNamespace(user=user))


def post(client, tok, event="impression", **headers):
    return client.post(URL, {"token": tok, "event": event}, **{**OURS, **headers})


def test_a_beacon_counts_the_view_once_and_answers_204(signed_in):
    client, viewer = signed_in
    org = vendor(balance_nanos=USD)
    c = campaign(org, bid_nanos=5 * USD)
    tok = token(ticket(c, viewer=viewer))
    first, second = post(client, tok), post(client, tok)
    assert (first.status_code, second.status_code) == (204, 204)
    assert first.content == b""
    assert AdEvent.objects.filter(campaign=c, kind="impression").count() == 1
    assert Wallet.objects.get(org=org).balance_nanos == USD - 5_000_000
    c.refresh_from_db()
    assert (c.impressions, c.spent_nanos) == (1, 5_000_000)


def test_a_click_beacon_as_json_bills_the_click(signed_in):
    client, viewer = signed_in
    org = vendor(balance_nanos=USD)
    c = campaign(org, pricing=Pricing.CPC, bid_nanos=300_000_000)
    body = json.dumps({"token": token(ticket(c, viewer=viewer)), "event": "click"})
    for _ in range(2):
        response = client.post(URL, body, content_type="application/json", **OURS)
        assert response.status_code == 204
    assert list(SponsoredCharge.objects.values_list("event", "amount_nanos")) == [
        ("click", 300_000_000)]


def test_an_anonymous_browser_is_known_by_its_session():
    client = Client()
    session = client.session  # the test client saves a new session and sets its cookie
    viewer = viewer_key(SimpleNamespace(user=SimpleNamespace(is_authenticated=False),
                                        session=session))
    c = campaign(vendor())
    assert post(client, token(ticket(c, viewer=viewer))).status_code == 204
    assert AdEvent.objects.filter(viewer=viewer).count() == 1
    # Another browser (another session) replaying the same token counts nothing.
    assert post(Client(), token(ticket(c, viewer=viewer))).status_code == 204
    assert AdEvent.objects.count() == 1


def test_the_referer_stands_in_for_a_missing_origin(signed_in):
    client, viewer = signed_in
    c = campaign(vendor())
    response = client.post(URL, {"token": token(ticket(c, viewer=viewer)),
                                 "event": "impression"},
                           HTTP_REFERER="http://testserver/models?q=x", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 204 and AdEvent.objects.count() == 1


@pytest.mark.parametrize("headers", [
    {"HTTP_ORIGIN": ""},
    {"HTTP_ORIGIN": "null"},
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_ORIGIN": "http://testserver.evil.example"},
    {"HTTP_ORIGIN": "http://testserver:8443"},
    {"HTTP_ORIGIN": "", "HTTP_REFERER": "https://evil.example/page"},
])
def test_another_origin_is_refused(signed_in, headers):
    client, viewer = signed_in
    c = campaign(vendor())
    assert post(client, token(ticket(c, viewer=viewer)), **headers).status_code == 403
    assert not AdEvent.objects.exists()


def test_forged_altered_and_expired_tickets_are_refused(signed_in):
    client, viewer = signed_in
    c = campaign(vendor())
    good = token(ticket(c, viewer=viewer))
    altered = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 7 * 3600):
        expired = token(ticket(c, viewer=viewer))
    from django.core import signing
    forged = signing.dumps({"campaign_id": c.pk}, key="not-our-secret",
                           salt="switchyard.listings.slot")
    for bad in (altered, expired, forged, "", "garbage"):
        assert post(client, bad).status_code == 400
    assert not AdEvent.objects.exists()
    assert post(client, good).status_code == 204  # the genuine one still counts


@pytest.mark.parametrize("body", [{"event": "hover"}, {"event": ""}, {}])
def test_an_unknown_event_is_400(signed_in, body):
    client, viewer = signed_in
    c = campaign(vendor())
    response = client.post(URL, {"token": token(ticket(c, viewer=viewer)), **body}, **OURS)
    assert response.status_code == 400


def test_json_that_is_not_an_object_is_400(signed_in):
    client, _ = signed_in
    for body in ("[1, 2]", "{not json", '"token"'):
        response = client.post(URL, body, content_type="application/json", **OURS)
        assert response.status_code == 400


def test_crawlers_and_other_viewers_get_204_and_are_not_billed(signed_in):
    client, viewer = signed_in
    org = vendor(balance_nanos=USD)
    c = campaign(org)
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert post(client, token(ticket(c, viewer=viewer)), HTTP_USER_AGENT=bot).status_code == 204
    assert post(client, token(ticket(c, viewer="someone-else"))).status_code == 204
    assert not AdEvent.objects.exists() and Wallet.objects.get(org=org).balance_nanos == USD


def test_only_post_is_allowed():
    assert Client().get(URL, **OURS).status_code == 405
