"""The request log: filters, keyset pages, one request, its CSV, and who reads what, through the
selectors, the management API (`/api/v1/requests/`) and the pages (`/requests/`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.content_log import ContentRow, store_contents
from compliance.services import update_org_policy
from core.errors import NotFound
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from observability.request_log import (
    LogFilters,
    access_request,
    iter_requests,
    list_requests,
    parse_log_filters,
)
from tests.observability.records import row, store
from tests.tenancy.factories import api_key, member, session_client

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"
NOW = timezone.now().replace(microsecond=0)


def _ids(rows) -> list[str]:
    return [r.request_id for r in rows]


def _newest_first(rows) -> list[str]:
    # The stored order: newest first, ties by insertion (the row id) newest first.
    indexed = list(enumerate(rows))
    return [r.request_id for _, r in sorted(indexed, key=lambda p: (p[1].created_at, p[0]),
                                            reverse=True)]


@pytest.fixture
def mixed():
    """An org with records of every kind, and another org's records that must never show."""
    owner = member(Role.OWNER)
    org = owner.org
    key_a, _ = api_key(org, name="backend")
    key_b, _ = api_key(org, name="batch")
    rows = store(
        row(org, at=NOW - dt.timedelta(minutes=1), key=key_a, task="coding"),
        row(org, at=NOW - dt.timedelta(minutes=2), key=key_b, status=402, outcome="refused",
            error_type="credit", model_served="", provider="", attempts=[], cost_nanos=0),
        row(org, at=NOW - dt.timedelta(hours=2), key=key_a, status=502, outcome="failed",
            error_type="upstream_5xx", model_requested="anthropic/claude-sonnet-4",
            model_served="", provider="sandbox-anthropic", task="translation"),
        row(org, at=NOW - dt.timedelta(days=3), key=key_b, model_requested="openrouter/auto",
            model_served="google/gemini-2.5-flash", provider="sandbox-gemini", is_fallback=True),
        row(org, at=NOW - dt.timedelta(days=3, minutes=5), key=key_a, status=429,
            outcome="refused", error_type="rate_limit", count=7, attempts=[]),
        row(org, at=NOW - dt.timedelta(days=40), key=key_b, status=200, outcome="cancelled",
            error_type="cancelled", task="summarization"),
    )
    other = member(Role.OWNER)
    foreign = store(row(other.org, at=NOW, request_id="gen-foreign-1"),
                    row(other.org, at=NOW - dt.timedelta(hours=2), status=502,
                        outcome="failed", error_type="upstream_5xx"))
    return {"owner": owner, "org": org, "key_a": key_a, "key_b": key_b, "rows": rows,
            "other": other, "foreign": foreign}


def _page_ids(client, **params) -> list[str]:
    answer = client.get(API, params)
    assert answer.status_code == 200, answer.content
    return [r["id"] for r in answer.json()["data"]]


def test_each_filter_returns_exactly_the_matching_rows(mixed):
    client = session_client(mixed["owner"])
    rows, key_a = mixed["rows"], mixed["key_a"]
    day = (NOW - dt.timedelta(days=3)).date()
    cases = {
        (): rows,
        (("status", "refused"),): [r for r in rows if r.outcome == "refused"],
        (("status", "failed"),): [r for r in rows if r.outcome == "failed"],
        (("status", "cancelled"),): [r for r in rows if r.outcome == "cancelled"],
        (("status", "429"),): [r for r in rows if r.status == 429],
        (("error_type", "credit"),): [r for r in rows if r.error_type == "credit"],
        (("key", str(key_a.pk)),): [r for r in rows if r.key_id == key_a.pk],
        # The model asked for or the one that served.
        (("model", "google/gemini-2.5-flash"),): [rows[3]],
        (("model", "openrouter/auto"),): [rows[3]],
        (("model", "openai/gpt-4o-mini"),): [r for r in rows if "openai/gpt-4o-mini" in (
            r.model_requested, r.model_served)],
        (("provider", "sandbox-anthropic"),): [rows[2]],
        (("task", "translation"),): [rows[2]],
        (("since", day.isoformat()), ("until", day.isoformat())): [
            r for r in rows if r.created_at.date() == day],
        (("since", (NOW - dt.timedelta(hours=3)).isoformat()),): rows[:3],
        (("status", "success"), ("key", str(key_a.pk))): [rows[0]],
    }
    for params, expected in cases.items():
        assert _page_ids(client, **dict(params)) == _newest_first(expected), params
    # The other org's records never show, whatever the filter.
    assert not set(_page_ids(client)) & set(_ids(mixed["foreign"]))


def test_rows_carry_what_the_table_and_the_api_promise(mixed):
    data = session_client(mixed["owner"]).get(API, {"status": "refused"}).json()["data"]
    flood, credit = data[1], data[0]
    assert credit["error_type"] == "credit" and credit["status"] == 402
    assert credit["key_name"] == "batch" and credit["cost_usd"] == "0"
    assert flood["count"] == 7 and flood["error_type"] == "rate_limit"
    served = session_client(mixed["owner"]).get(API, {"status": "success"}).json()["data"][0]
    assert served["cost_usd"] == "0.000004321" and served["cost_nanos"] == 4321
    assert served["ttft_ms"] == 90 and served["task"] == "coding"
    assert "attempts" not in served


def test_cursor_pages_have_no_duplicates_or_gaps_even_with_equal_times():
    owner = member(Role.OWNER)
    rng = random.Random(13)
    # Many rows share a timestamp: the id breaks the tie, so a page boundary inside a tie
    # neither repeats nor skips a row.
    moments = [NOW - dt.timedelta(seconds=rng.choice([0, 0, 1, 5, 5, 5, 60, 3600]))
               for _ in range(57)]
    rows = store(*[row(owner.org, at=moment, outcome=rng.choice(["success", "failed"]))
                   for moment in moments])
    client = session_client(owner)

    for params in ({}, {"status": "failed"}):
        expected = _newest_first([r for r in rows
                                  if not params or r.outcome == params["status"]])
        seen, cursor, pages = [], None, 0
        while True:
            query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
            answer = client.get(API, query).json()
            seen += [r["id"] for r in answer["data"]]
            pages += 1
            # Rows arriving while someone pages are newer than the cursor: never in later pages.
            rows += store(row(owner.org, at=timezone.now(), outcome="failed"))
            cursor = answer["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        assert pages == -(-len(expected) // 7)


def test_a_page_and_a_request_are_one_query_each(mixed, django_assert_num_queries):
    org_id = mixed["org"].pk
    with django_assert_num_queries(1):
        page = list_requests(org_id, LogFilters(outcome="refused"), limit=1)
        assert [r.key.name for r in page.rows] == ["batch"]  # the key came in the same query
    with django_assert_num_queries(1):
        record = access_request(org_id, mixed["rows"][2].request_id)
        assert record.key.name == "backend"


def test_the_api_page_costs_the_same_queries_whatever_its_size(mixed, django_assert_num_queries):
    client = session_client(mixed["owner"])
    client.get(API)  # warm: the session and the membership are read the same way each time
    with CaptureQueriesContext(connection) as small:
        client.get(API, {"limit": 1})
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(API, {"limit": 200}).json()["data"]) == len(mixed["rows"])
    detail = mixed["rows"][0].request_id
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(f"{API}{detail}/").status_code == 200


def test_another_orgs_request_is_not_found_like_a_missing_one(mixed):
    foreign_id = mixed["foreign"][0].request_id
    with pytest.raises(NotFound) as missing:
        access_request(mixed["org"].pk, "gen-no-such-request")
    with pytest.raises(NotFound) as foreign:
        access_request(mixed["org"].pk, foreign_id)
    assert foreign.value.message == missing.value.message

    client = session_client(mixed["owner"])
    answers = [client.get(f"{API}{rid}/") for rid in (foreign_id, "gen-no-such-request")]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    page = Client()
    page.force_login(mixed["owner"].user)
    assert page.get(f"/requests/{foreign_id}/").status_code == 404
    # The owner of that request sees it.
    assert session_client(mixed["other"]).get(f"{API}{foreign_id}/").status_code == 200


def test_the_detail_has_every_attempt_in_order(mixed):
    fallback = store(row(mixed["org"], at=NOW, is_fallback=True, provider="sandbox-openai-b",
                         attempts=[
                             {"endpoint_id": 1, "provider": "sandbox-openai", "status": 503,
                              "latency_ms": 31, "error": "upstream 503"},
                             {"endpoint_id": 2, "provider": "sandbox-openai-b", "status": 200,
                              "latency_ms": 240, "error": ""}]))[0]
    data = session_client(mixed["owner"]).get(f"{API}{fallback.request_id}/").json()
    assert data["id"] == fallback.request_id and data["is_fallback"] is True
    assert [(a["provider"], a["status"], a["error"]) for a in data["attempts"]] == [
        ("sandbox-openai", 503, "upstream 503"), ("sandbox-openai-b", 200, "")]

    page = Client()
    page.force_login(mixed["owner"].user)
    html = page.get(f"/requests/{fallback.request_id}/").content.decode()
    attempts = html.split('id="request-attempts"')[1]
    assert attempts.index("upstream 503") < attempts.index("sandbox-openai-b")


@pytest.mark.parametrize(("params", "field"), [
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "W10"}, "cursor"),  # base64 of "[]"
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-02-30"}, "until"),
    ({"since": "2026-11-02", "until": "2026-11-01"}, "until"),
    ({"status": "exploded"}, "status"),
    ({"status": "700"}, "status"),
    ({"error_type": "gremlins"}, "error_type"),
    ({"key": "first"}, "key"),
    ({"task": "DROP TABLE"}, "task"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"model": "x" * 201}, "model"),
])
def test_bad_input_is_a_400_naming_the_parameter(params, field):
    owner = member(Role.OWNER)
    answer = session_client(owner).get(API, params)
    assert answer.status_code == 400
    body = answer.json()
    assert list(body) == [field] and body[field][0]

    if field == "limit":
        return  # the page has a fixed size
    page = Client()
    page.force_login(owner.user)
    html = page.get("/requests/", params)
    assert html.status_code == 400
    assert b'id="filter-error"' in html.content


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.FINANCE,
                                  Role.VIEWER])
def test_every_member_reads_the_log_and_only_money_roles_export(mixed, role):
    someone = member(role, org=mixed["org"])
    api = session_client(someone)
    page = Client()
    page.force_login(someone.user)
    exporter = role in (Role.OWNER, Role.ADMIN, Role.FINANCE)

    assert _page_ids(api) == _newest_first(mixed["rows"])
    listing = page.get("/requests/")
    assert listing.status_code == 200
    assert b'href="/requests/"' in listing.content  # the nav link
    assert (b'id="request-export"' in listing.content) is exporter
    detail = mixed["rows"][1].request_id
    assert api.get(f"{API}{detail}/").status_code == 200
    assert page.get(f"/requests/{detail}/").status_code == 200
    assert page.get("/requests/export.csv").status_code == (200 if exporter else 403)
    assert api.get(f"{API}export.csv").status_code == (200 if exporter else 403)


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_holds_the_filtered_rows_newest_first(mixed):
    org = mixed["org"]
    store(row(org, at=NOW - dt.timedelta(days=2), app="=HYPERLINK(\"x\")", cost_nanos=1_500_000))
    page = Client()
    page.force_login(mixed["owner"].user)

    everything = page.get("/requests/export.csv")
    assert everything["Content-Type"].startswith("text/csv")
    assert "attachment" in everything["Content-Disposition"]
    lines = _csv(everything)
    assert [line["request_id"] for line in lines] == [r.request_id
                                                       for r in iter_requests(org.pk)]
    assert len(lines) == len(mixed["rows"]) + 1
    formula = next(line for line in lines if line["cost_nanos"] == "1500000")
    assert formula["app"].startswith("'=") and formula["cost_usd"] == "0.0015"

    refused = _csv(page.get("/requests/export.csv", {"status": "refused"}))
    assert [line["request_id"] for line in refused] == _newest_first(
        [r for r in mixed["rows"] if r.outcome == "refused"])
    assert {line["error_type"] for line in refused} == {"credit", "rate_limit"}
    assert next(line for line in refused if line["error_type"] == "rate_limit")["count"] == "7"

    api = session_client(mixed["owner"]).get(f"{API}export.csv", {"status": "failed"})
    assert api.status_code == 200
    assert [line["request_id"] for line in _csv(api)] == [mixed["rows"][2].request_id]
    assert session_client(mixed["owner"]).get(f"{API}export.csv",
                                              {"status": "nope"}).status_code == 400


def test_the_export_reads_keyset_pages_in_order():
    owner = member(Role.OWNER)
    rows = store(*[row(owner.org, at=NOW - dt.timedelta(seconds=i % 4)) for i in range(23)])
    read = [r.request_id for r in iter_requests(owner.org.pk, page_size=5)]
    assert read == _newest_first(rows)
    filters = parse_log_filters({"status": "success"})
    assert [r.request_id for r in iter_requests(owner.org.pk, filters, page_size=4)] == read


def test_the_page_filters_and_links_to_older_rows_keeping_the_filters(mixed):
    org = mixed["org"]
    store(*[row(org, at=NOW - dt.timedelta(days=1, seconds=i), outcome="failed",
                status=502, error_type="timeout") for i in range(55)])
    page = Client()
    page.force_login(mixed["owner"].user)

    first = page.get("/requests/", {"status": "failed"}).content.decode()
    assert first.count('data-outcome="failed"') == 50 and 'data-outcome="success"' not in first
    assert 'id="request-older"' in first and "status=failed&amp;cursor=" in first
    older_href = first.split('id="request-older" href="')[1].split('"')[0].replace("&amp;", "&")
    second = page.get("/requests/" + older_href).content.decode()
    assert second.count('data-outcome="failed"') == 6  # the 55 and the older failed one
    assert 'id="request-older"' not in second and 'id="request-newest"' in second


def _log_content(org, request_id: str) -> None:
    store_contents([ContentRow(org_id=org.pk, request_id=request_id,
                               request={"messages": [{"role": "user", "content": "secret sea"}]},
                               response={"choices": [{"message": {"content": "calm"}}]},
                               created_at=NOW, expires_at=NOW + dt.timedelta(days=30))])


def test_content_shows_only_where_logging_is_on_and_only_to_owners_and_admins(mixed):
    org, owner = mixed["org"], mixed["owner"]
    request_id = mixed["rows"][0].request_id
    _log_content(org, request_id)

    def detail(membership) -> str:
        client = Client()
        client.force_login(membership.user)
        return client.get(f"/requests/{request_id}/").content.decode()

    # Logging is off (no policy keeps content): nothing shows, even though a row is stored.
    assert "secret sea" not in detail(owner)
    update_org_policy(org, Actor(role=Role.OWNER, user=owner.user),
                      {"content_retention_days": 30})
    assert "secret sea" in detail(owner) and "calm" in detail(owner)
    assert "secret sea" in detail(member(Role.ADMIN, org=org))
    for role in (Role.DEVELOPER, Role.FINANCE, Role.VIEWER):
        assert "secret sea" not in detail(member(role, org=org)), role
    # Past its retention, the content is gone from the page too.
    from compliance.models import RequestContent
    RequestContent.objects.filter(org=org).update(expires_at=NOW - dt.timedelta(seconds=1))
    assert "secret sea" not in detail(owner)
