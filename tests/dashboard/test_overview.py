"""The overview: balance, spend per period, the 30-day chart, top models and keys, the last
requests, the low-balance alert (the dashboard's alert banner) and the quick start, in a fixed
number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.hotpath.rules import period_starts
from billing.models import Wallet
from billing.services.ledger import grant_promotional_credit
from marketplace.dashboard.demo_usage import add_demo_usage
from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import ApiKey, Role
from marketplace.tenancy.selectors import get_key_auth
from observability.alerts.evaluate import evaluate_alerts
from tests.dashboard.usage_rows import json_script, text_of, usage
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db

USD = 1_000_000_000
# Session, user and membership with its org (the decorator), the org switcher's memberships;
# then one query each for the wallet, spend (totals, chart and top models from one grouped
# read), top keys, the last requests and whether an inference key exists: 9, whatever the
# number of records or keys.
OVERVIEW_MAX_QUERIES = 9


def _signed_in(client, membership):
    client.force_login(membership.user)
    return client


def _credit(org, nanos):
    grant_promotional_credit(org, nanos, memo="test", idempotency_key=f"test-{org.pk}")


def test_balance_holds_and_spend_per_period(client):
    m = member(Role.OWNER)
    org = m.org
    _credit(org, 10 * USD)
    Wallet.objects.filter(org=org).update(held_nanos=2 * USD)
    key, _ = api_key(org, name="backend")
    now = timezone.now()
    starts = period_starts(now)
    # One record at each period's first instant (boundaries are inclusive) and one long ago.
    records = [(starts["day"], 1_500_000_000), (starts["week"], 200_000_000),
               (starts["month"], 30_000_000), (now - dt.timedelta(days=40), 4 * USD)]
    for at, charge in records:
        usage(org, key=key, at=at, charge=charge, prompt=100, completion=20)

    page = _signed_in(client, m).get("/dashboard/")

    assert page.status_code == 200
    assert text_of(page.content, "figure-available") == "$8.00"
    assert "$10.00" in page.content.decode() and "$2.00 held by running requests" in (
        page.content.decode())

    def spent(start):
        return sum(charge for at, charge in records if at >= start)

    from core.money import dashboard_usd
    assert text_of(page.content, "figure-spend-day") == dashboard_usd(spent(starts["day"]))
    assert text_of(page.content, "figure-spend-week") == dashboard_usd(spent(starts["week"]))
    assert text_of(page.content, "figure-spend-month") == dashboard_usd(spent(starts["month"]))
    in_month = sum(1 for at, _ in records if at >= starts["month"])
    assert text_of(page.content, "figure-usage-month").startswith(
        f"{in_month} request{'s' if in_month != 1 else ''} · {in_month * 100} prompt + "
        f"{in_month * 20} completion tokens")


def test_a_first_request_costing_under_a_cent_does_not_read_zero(client):
    m = member(Role.OWNER)
    usage(m.org, at=timezone.now(), charge=1_500_000)
    page = _signed_in(client, m).get("/dashboard/")
    assert text_of(page.content, "figure-spend-day") == "$0.0015"
    assert text_of(page.content, "figure-available") == "$0.00"


def test_the_chart_has_30_days_of_spend_by_model(client):
    m = member(Role.DEVELOPER)
    now = timezone.now()
    today = period_starts(now)["day"]
    usage(m.org, at=today, model="openai/gpt-4o-mini", charge=1_250_000)
    usage(m.org, at=today, model="openai/gpt-4o-mini", charge=1_000_000)
    usage(m.org, at=today - dt.timedelta(days=29), model="anthropic/claude-sonnet-4",
          charge=9 * USD)
    usage(m.org, at=today - dt.timedelta(days=30), model="anthropic/claude-sonnet-4",
          charge=USD)  # 31 days ago counting today: outside the chart

    data = json_script(_signed_in(client, m).get("/dashboard/").content, "spend-chart-data")

    assert len(data["labels"]) == 30
    assert data["labels"][-1] == today.date().isoformat()
    assert data["stacked"] is True
    by_label = {s["label"]: s for s in data["series"]}
    assert list(by_label) == ["anthropic/claude-sonnet-4", "openai/gpt-4o-mini"]  # by spend
    claude, mini = by_label["anthropic/claude-sonnet-4"], by_label["openai/gpt-4o-mini"]
    assert claude["values"][0] == "9" and set(claude["values"][1:]) == {"0"}
    assert mini["values"][-1] == "0.00225" and mini["display"][-1] == "$0.00225"
    assert set(mini["values"][:-1]) == {"0"}


def test_the_chart_folds_models_past_the_top_six_into_other(client):
    m = member(Role.OWNER)
    today = period_starts(timezone.now())["day"]
    for i in range(8):
        usage(m.org, at=today, model=f"vendor/model-{i}", charge=(i + 1) * 1_000_000)
    data = json_script(_signed_in(client, m).get("/dashboard/").content, "spend-chart-data")
    labels = [s["label"] for s in data["series"]]
    assert labels == [f"vendor/model-{i}" for i in range(7, 1, -1)] + ["Other models"]
    assert data["series"][-1]["values"][-1] == "0.003"  # model-0 + model-1


def test_top_models_top_keys_and_the_last_ten_requests(client):
    m = member(Role.OWNER)
    org = m.org
    backend, _ = api_key(org, name="backend")
    laptop, _ = api_key(org, name="laptop")
    start = period_starts(timezone.now())["day"]
    usage(org, key=laptop, at=start, model="cheap/model", charge=1_000)
    for i in range(11):
        usage(org, key=backend, at=start + dt.timedelta(seconds=i + 1), model="dear/model",
              charge=3_000_000)
    usage(org, key=laptop, at=start + dt.timedelta(seconds=20), model="dear/model", charge=0,
          served=False, finish_reason="error", completion=0)
    usage(org, key=laptop, at=start + dt.timedelta(seconds=21), model="cheap/model",
          charge=123_456_789, cancelled=True)

    html = _signed_in(client, m).get("/dashboard/").content.decode()

    models = html[html.index('id="top-models"'):html.index('id="top-keys-heading"')]
    assert models.index("cheap/model") < models.index("dear/model")  # $0.12 before $0.033
    assert "$0.033" in models and "$0.123458" in models
    keys = html[html.index('id="top-keys"'):html.index('id="recent-heading"')]
    assert keys.index("laptop") < keys.index("backend")
    assert f'href="/dashboard/keys/{backend.pk}/"' in keys
    recent = html[html.index('id="recent-requests"'):html.index("</table>",
                                                                 html.index('id="recent-requests"'))]
    rows = recent.split("<tr>")[2:]
    assert len(rows) == 10
    assert "cancelled" in rows[0] and "$0.123457" in rows[0]  # newest first
    assert "badge off" in rows[1] and ">error<" in rows[1]
    assert ">ok<" in rows[2] and "$0.003" in rows[2]


def test_another_orgs_usage_never_shows(client):
    m = member(Role.OWNER)
    other = member(Role.OWNER)
    usage(other.org, at=period_starts(timezone.now())["day"], model="secret/model",
          charge=7 * USD)
    page = _signed_in(client, m).get("/dashboard/")
    assert b"secret/model" not in page.content
    assert text_of(page.content, "figure-spend-month") == "$0.00"
    assert b'id="chart-empty"' in page.content


@pytest.mark.parametrize(("role", "top_up_button"), [(Role.OWNER, True), (Role.FINANCE, True),
                                                     (Role.DEVELOPER, False)])
def test_low_balance_warning(client, role, top_up_button):
    m = member(role)
    _credit(m.org, USD)
    Wallet.objects.filter(org=m.org).update(low_balance_threshold_nanos=5 * USD)
    evaluate_alerts()  # the low-balance alert (observability's banner on every page)
    html = _signed_in(client, m).get("/dashboard/").content.decode()
    assert 'id="low-balance"' in html
    assert "$1.00 available, below this organization's warning threshold of $5.00" in html
    assert ('<a class="button" href="/billing/wallet/">Top up</a>' in html) is top_up_button
    assert ("Ask an owner, admin or finance member to top up" in html) is not top_up_button

    Wallet.objects.filter(org=m.org).update(low_balance_threshold_nanos=USD)  # not below
    evaluate_alerts()
    assert 'id="low-balance"' not in _signed_in(client, m).get("/dashboard/").content.decode()


def test_an_org_without_a_wallet_is_warned_at_the_default_threshold(client):
    m = member(Role.OWNER)
    evaluate_alerts()
    html = _signed_in(client, m).get("/dashboard/").content.decode()
    assert 'id="low-balance"' in html and "threshold of $0.50" in html


def test_quick_start_snippets_use_the_public_base_url(client, settings):
    settings.PUBLIC_URL = "https://switchyard.example.com/"
    m = member(Role.DEVELOPER)
    api_key(m.org)
    usage(m.org, at=timezone.now(), model="anthropic/claude-sonnet-4")
    html = _signed_in(client, m).get("/dashboard/").content.decode()
    base = "https://switchyard.example.com/v1"
    for snippet_id in ("snippet-curl", "snippet-python", "snippet-typescript"):
        start = html.index(f'<code id="{snippet_id}">')
        snippet = html[start:html.index("</code>", start)]
        assert base in snippet
        assert "anthropic/claude-sonnet-4" in snippet  # the org's own top model
        assert "SWITCHYARD_API_KEY" in snippet
        assert f'data-copy-target="{snippet_id}"' in html
    assert "from openai import OpenAI" in html and 'import OpenAI from &quot;openai&quot;' in html
    assert 'id="first-key"' not in html  # the org has a key


def test_quick_start_creates_the_first_key_and_shows_it_once(client):
    m = member(Role.DEVELOPER)
    _signed_in(client, m)
    page = client.get("/dashboard/")
    assert 'id="first-key"' in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    response = client.post("/dashboard/quickstart/key/", {"name": "my laptop"})

    assert response.status_code == 200
    key = ApiKey.objects.get(org=m.org)
    assert (key.name, key.scope, key.created_by_id) == ("my laptop", "inference", m.user_id)
    plaintext = text_of(response.content, "new-key-value")
    assert get_key_auth(hash_api_key(plaintext)).key_id == key.pk
    assert "no-store" in response["Cache-Control"]
    later = client.get("/dashboard/").content.decode()
    assert plaintext not in later and 'id="first-key"' not in later


def test_quick_start_key_form_errors_and_roles(client):
    m = member(Role.OWNER)
    response = _signed_in(client, m).post("/dashboard/quickstart/key/", {"name": "   "})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert not ApiKey.objects.filter(org=m.org).exists()

    viewer = member(Role.VIEWER)
    _signed_in(client, viewer)
    html = client.get("/dashboard/").content.decode()
    assert 'id="first-key-note"' in html and 'id="first-key"' not in html
    assert client.post("/dashboard/quickstart/key/", {"name": "x"}).status_code == 403
    finance = member(Role.FINANCE)
    _signed_in(client, finance)
    assert 'id="quickstart"' not in client.get("/dashboard/").content.decode()
    assert client.post("/dashboard/quickstart/key/", {"name": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


def _count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_overview_costs_the_same_queries_for_5_or_500_records(
        client, django_assert_max_num_queries):
    m = member(Role.OWNER)
    _credit(m.org, USD)
    for name in ("a", "b", "c"):
        api_key(m.org, name=name)
    _signed_in(client, m).get("/dashboard/")  # the first request after login saves the session
    add_demo_usage(m.org, 5, seed=1)
    few = _count_queries(client, "/dashboard/")
    add_demo_usage(m.org, 495, seed=2)
    for name in ("d", "e"):
        api_key(m.org, name=name)
    many = _count_queries(client, "/dashboard/")
    assert few == many
    with django_assert_max_num_queries(OVERVIEW_MAX_QUERIES):
        client.get("/dashboard/")
