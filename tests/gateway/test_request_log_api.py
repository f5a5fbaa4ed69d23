"""Requests driven through the real gateway show in the request log (API and page) with the
right error type, only to their own org; `/v1/generation` links to the request's log page."""

from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client

from marketplace.tenancy.models import Membership, Role
from tests.gateway.helpers import wait_usage_record
from tests.gateway.test_request_records import BOTH, _chat, _client, wait_record
from tests.openrouter_schema import validate
from tests.tenancy.factories import session_client

pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")
API = "/api/v1/requests/"


def _owner(org_key):
    return Membership.objects.get(org=org_key.org, role=Role.OWNER)


def _log(membership, **params) -> dict[str, dict]:
    answer = session_client(membership).get(API, params)
    assert answer.status_code == 200, answer.content
    return {row["id"]: row for row in answer.json()["data"]}


def test_refused_failed_and_cut_off_requests_are_in_the_log_with_their_error_type(
        sandbox_catalog, make_org_key, funded_key, gateway, sandbox):
    broke = make_org_key()  # no credit at all
    with _client(gateway, broke) as http:
        no_credit = _chat(http)
    assert no_credit.status_code == 402, no_credit.text

    with _client(gateway, funded_key) as http:
        served = _chat(http)
        sandbox.control.set_fault("sandbox-openai", reset_after_bytes=400)
        cut_off = _chat(http, provider=BOTH, stream=True,
                        text="Tell me about the sea in a few sentences")
        sandbox.control.set_fault("sandbox-openai", error_status=503)
        sandbox.control.set_fault("sandbox-openai-b", error_status=503)
        failed = _chat(http, provider={**BOTH, "allow_fallbacks": False})
    assert served.status_code == 200 and failed.status_code == 502, failed.text
    ids = {name: answer.headers["x-request-id"] for name, answer in (
        ("no_credit", no_credit), ("served", served), ("failed", failed), ("cut_off", cut_off))}
    for request_id in ids.values():
        wait_record(request_id)

    refused = _log(_owner(broke), status="refused")
    assert refused[ids["no_credit"]]["error_type"] == "credit"
    assert refused[ids["no_credit"]]["status"] == 402

    owner = _owner(funded_key)
    everything = _log(owner)
    assert set(ids.values()) - {ids["no_credit"]} <= set(everything)
    assert ids["no_credit"] not in everything  # another org's request
    assert everything[ids["served"]]["outcome"] == "success"
    failures = _log(owner, status="failed")
    assert ids["served"] not in failures
    assert failures[ids["failed"]]["error_type"] == "upstream_5xx"
    assert failures[ids["failed"]]["status"] == 502
    assert (failures[ids["cut_off"]]["error_type"],
            failures[ids["cut_off"]]["finish_reason"]) == ("upstream_5xx", "error")
    assert set(_log(owner, error_type="upstream_5xx")) == {ids["failed"], ids["cut_off"]}

    detail = session_client(owner).get(f"{API}{ids['failed']}/").json()
    assert [a["status"] for a in detail["attempts"]] == [503] * len(detail["attempts"])
    assert detail["attempts"] and detail["cost_usd"] == "0"

    page = Client()
    page.force_login(owner.user)
    html = page.get("/requests/", {"status": "failed"}).content.decode()
    assert ids["failed"] in html and ids["cut_off"] in html and ids["served"] not in html
    assert "upstream_5xx" in html
    credit_page = Client()
    credit_page.force_login(_owner(broke).user)
    html = credit_page.get("/requests/", {"status": "refused"}).content.decode()
    assert ids["no_credit"] in html and ">credit<" in html


def test_another_orgs_request_id_is_not_found_in_the_log_api_and_pages(
        sandbox_catalog, make_org_key, funded_key, gateway, sandbox):
    with _client(gateway, funded_key) as http:
        answer = _chat(http)
    request_id = answer.json()["id"]
    wait_record(request_id)
    stranger = _owner(make_org_key())

    api = session_client(stranger)
    assert request_id not in {row["id"] for row in api.get(API).json()["data"]}
    assert api.get(f"{API}{request_id}/").status_code == 404
    page = Client()
    page.force_login(stranger.user)
    assert page.get(f"/requests/{request_id}/").status_code == 404
    # The org's own owner reads it.
    assert session_client(_owner(funded_key)).get(f"{API}{request_id}/").status_code == 200


def test_generation_links_to_the_request_log_page(sandbox_catalog, funded_key, gateway,
                                                  sandbox):
    with _client(gateway, funded_key) as http:
        answer = _chat(http)
        request_id = answer.json()["id"]
        wait_usage_record(request_id)
        generation = http.get("/v1/generation", params={"id": request_id})
    assert generation.status_code == 200
    validate(generation.json(), "GenerationResponse")  # the extra field keeps it valid
    link = generation.json()["data"]["request_log_url"]
    assert link == f"{gateway.url}/requests/{request_id}/"

    wait_record(request_id)
    page = Client()
    page.force_login(_owner(funded_key).user)
    detail = page.get(urlsplit(link).path)
    assert detail.status_code == 200 and request_id in detail.content.decode()
    # Signed out, the link asks for a sign-in rather than showing anything.
    assert httpx.get(link, follow_redirects=False).status_code == 302
