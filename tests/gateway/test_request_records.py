"""Every authenticated /v1 inference request leaves a request record, whatever became of it.

A real gateway process and the sandbox providers over sockets; records are read from the
database as the gateway's batched writer stored them.
"""

import time

import httpx
import pytest

from marketplace.tenancy.models import ApiKey
from observability.models import RequestRecord
from tests.gateway.conftest import fund

BOTH = {"order": ["sandbox-openai", "sandbox-openai-b"]}
pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")


def wait_record(request_id: str, timeout_s: float = 30.0) -> RequestRecord:
    deadline = time.monotonic() + timeout_s
    while (row := RequestRecord.objects.filter(request_id=request_id).first()) is None:
        assert time.monotonic() < deadline, f"no request record for {request_id}"
        time.sleep(0.05)
    return row


def _client(gateway, key, **headers) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, timeout=60,
                        headers={"Authorization": f"Bearer {key.plaintext}", **headers})


def _chat(http, *, model="openai/gpt-4o-mini", provider=None, stream=False, text=None):
    body = {"model": model, "stream": stream, "max_tokens": 20, "messages": [
        {"role": "user", "content": text or "Translate into French: the sea is calm today."}]}
    if provider is not None:
        body["provider"] = provider
    return http.post("/v1/chat/completions", json=body)


def test_a_served_request_is_recorded_with_what_served_it_and_its_task(
        sandbox_catalog, funded_key, gateway, sandbox):
    with _client(gateway, funded_key, **{"X-Title": "Sea Translator"}) as http:
        answer = _chat(http)
    assert answer.status_code == 200, answer.text

    row = wait_record(answer.json()["id"])
    assert row.org_id == funded_key.org.pk and row.key_id == funded_key.key.pk
    assert (row.status, row.outcome, row.error_type) == (200, "success", "")
    assert row.app == "Sea Translator"
    assert row.model_requested == "openai/gpt-4o-mini"
    assert row.model_served == "openai/gpt-4o-mini" and row.provider.startswith("sandbox-openai")
    usage = answer.json()["usage"]
    assert row.prompt_tokens == usage["prompt_tokens"]
    assert row.completion_tokens == usage["completion_tokens"]
    assert row.cost_nanos > 0 and row.latency_ms >= 0
    assert row.task == "translation"
    assert [a["status"] for a in row.attempts] == [200]
    assert not row.is_fallback and not row.is_byok


def test_a_fallback_is_marked_with_every_attempt(sandbox_catalog, funded_key, gateway, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=503)
    with _client(gateway, funded_key) as http:
        answer = _chat(http, provider=BOTH, stream=True)
    assert answer.status_code == 200, answer.text

    row = wait_record(answer.headers["x-request-id"])
    assert row.outcome == "success" and row.is_fallback and row.streamed
    assert row.provider == "sandbox-openai-b"
    assert [a["provider"] for a in row.attempts][-1] == "sandbox-openai-b"
    assert 503 in [a["status"] for a in row.attempts]
    assert row.ttft_ms is not None


def test_an_upstream_failure_is_recorded_as_failed_with_its_attempts(
        sandbox_catalog, funded_key, gateway, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=503)
    sandbox.control.set_fault("sandbox-openai-b", error_status=503)
    with _client(gateway, funded_key) as http:
        answer = _chat(http, provider={**BOTH, "allow_fallbacks": False})
    assert answer.status_code == 502, answer.text

    row = wait_record(answer.headers["x-request-id"])
    assert (row.status, row.outcome, row.error_type) == (502, "failed", "upstream_5xx")
    assert row.attempts and all(a["status"] == 503 for a in row.attempts)
    assert row.cost_nanos == 0


def test_a_stream_cut_off_by_its_provider_is_failed(sandbox_catalog, funded_key, gateway,
                                                     sandbox):
    sandbox.control.set_fault("sandbox-openai", reset_after_bytes=400)
    with _client(gateway, funded_key) as http:
        answer = _chat(http, provider=BOTH, stream=True,
                       text="Tell me about the sea in a few sentences")
    assert answer.status_code == 200

    row = wait_record(answer.headers["x-request-id"])
    assert (row.status, row.outcome, row.error_type) == (200, "failed", "upstream_5xx")
    assert row.finish_reason == "error"


def test_refusals_before_any_provider_are_recorded_with_their_type(
        sandbox_catalog, make_org_key, funded_key, gateway, sandbox):
    broke = make_org_key()  # no credit at all
    with _client(gateway, broke) as http:
        no_credit = _chat(http)
    with _client(gateway, funded_key) as http:
        unknown = _chat(http, model="nobody/no-such-model")
        bad = http.post("/v1/chat/completions", json={"model": "openai/gpt-4o-mini",
                                                       "messages": "not a list"})
        no_endpoint = _chat(http, provider={"only": ["sandbox-gemini"]})

    assert no_credit.status_code == 402, no_credit.text
    assert wait_record(no_credit.headers["x-request-id"]).error_type == "credit"
    assert bad.status_code == 400
    assert wait_record(bad.headers["x-request-id"]).error_type == "invalid_request"
    for answer, kind in ((unknown, {"invalid_request", "no_endpoint"}),
                         (no_endpoint, {"no_endpoint"})):
        row = wait_record(answer.headers["x-request-id"])
        assert row.outcome == "refused" and row.status == answer.status_code >= 400
        assert row.error_type in kind, (answer.status_code, row.error_type)
        assert row.attempts == [] and row.cost_nanos == 0


def test_messages_route_errors_are_recorded_too(sandbox_catalog, funded_key, gateway, sandbox):
    with _client(gateway, funded_key) as http:
        answer = http.post("/v1/messages", json={"model": "anthropic/claude-sonnet-4",
                                                  "max_tokens": 0, "messages": []})
    assert answer.status_code == 400
    row = wait_record(answer.headers["x-request-id"])
    assert (row.outcome, row.error_type) == ("refused", "invalid_request")


def test_requests_that_fail_authentication_leave_no_record(sandbox_catalog, funded_key, gateway):
    before = RequestRecord.objects.count()
    answer = httpx.post(f"{gateway.url}/v1/chat/completions", json={"model": "x"},
                        headers={"Authorization": "Bearer sk-or-v1-" + "0" * 64})
    assert answer.status_code == 401
    time.sleep(0.5)  # two gather windows: a record would have landed
    assert RequestRecord.objects.count() == before


def test_a_flood_of_rate_limit_refusals_shares_rows(sandbox_catalog, make_org_key,
                                                     start_gateway, sandbox):
    key = make_org_key()
    fund(key.org, 10**9)
    server = start_gateway(GATEWAY_KEY_RPM="2")
    with _client(server, key) as http:
        answers = [_chat(http) for _ in range(7)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) >= 4, statuses
    server.process.terminate()  # a gateway that stops writes its pending flood rows
    server.process.wait(30)

    rows = RequestRecord.objects.filter(key_id=key.key.pk)
    refused = rows.filter(error_type="rate_limit")
    assert sum(r.count for r in rows) == 7
    assert sum(r.count for r in refused) == statuses.count(429)
    assert refused.count() <= 2 * 2  # at most first + flood row per minute (two minutes at worst)
    # The limiter refused them before admission: no task label was computed for them.
    assert all(r.task == "" for r in refused)
    assert all(r.task for r in rows.filter(outcome="success"))


def test_a_deleted_key_keeps_its_records(sandbox_catalog, funded_key, gateway, sandbox):
    with _client(gateway, funded_key) as http:
        answer = _chat(http)
    row = wait_record(answer.json()["id"])
    ApiKey.objects.filter(pk=funded_key.key.pk).delete()
    row.refresh_from_db()
    assert row.key_id is None
