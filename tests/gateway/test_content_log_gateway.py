"""Content logging through a real gateway: an org that turned it on keeps each request body as
received and its answer (JSON, or a stream's assembled choices); an org that did not keeps
nothing at all.
"""

import datetime as dt
import json
import time

import httpx
import openai
import pytest
from django.utils import timezone

from compliance.fanout import announce_change
from compliance.models import OrgPolicy, RequestContent
from core.money import api_usd
from tests.gateway.conftest import fund
from tests.gateway.helpers import wait_usage_record

RAW = (b'{"model": "openai/gpt-4o-mini", "max_tokens": 12, "temperature": 0.5,\n'
       b' "messages": [{"role": "system", "content": "be brief"},'
       b' {"role": "user", "content": "log me \\u2713"}]}')


def _log_content(org, days: int | None = 7) -> None:
    """Set the org's policy as the policy service does: a new version, then the announcement.

    The `gateway` fixture has already authenticated the test's key, so the gateway caches it
    without this policy until the announcement (Redis) or the key cache's 1 s TTL drops it.
    """
    OrgPolicy.objects.create(org=org, version=1, content_retention_days=days)
    announce_change(org.pk)
    time.sleep(1.1)  # the TTL bound, so this holds without Redis too


def _wait_content(request_id: str, timeout_s: float = 10.0) -> RequestContent:
    deadline = time.monotonic() + timeout_s
    while (row := RequestContent.objects.filter(request_id=request_id).first()) is None:
        assert time.monotonic() < deadline, f"no content stored for {request_id}"
        time.sleep(0.05)
    return row


def _post(gateway, key, path: str, raw: bytes) -> httpx.Response:
    return httpx.post(f"{gateway.url}{path}", content=raw, timeout=30,
                      headers={"Authorization": f"Bearer {key.plaintext}",
                               "Content-Type": "application/json"})


def test_a_json_answer_is_stored_with_its_request_as_received(sandbox_catalog, funded_key,
                                                               gateway, sandbox):
    _log_content(funded_key.org, days=3)
    before = timezone.now()

    answer = _post(gateway, funded_key, "/v1/chat/completions", RAW)

    assert answer.status_code == 200, answer.text
    row = _wait_content(answer.json()["id"])
    assert row.org_id == funded_key.org.pk
    assert row.request == json.loads(RAW)
    assert row.response == answer.json()
    assert before <= row.created_at <= timezone.now()
    assert row.expires_at - row.created_at == dt.timedelta(days=3)


def test_a_messages_answer_is_stored_as_sent(sandbox_catalog, funded_key, gateway, sandbox):
    _log_content(funded_key.org)
    raw = (b'{"model": "anthropic/claude-sonnet-4", "max_tokens": 16,'
           b' "messages": [{"role": "user", "content": "keep this"}]}')

    answer = _post(gateway, funded_key, "/v1/messages", raw)

    assert answer.status_code == 200, answer.text
    row = _wait_content(answer.headers["x-request-id"])
    assert row.request == json.loads(raw)
    assert row.response == answer.json()
    assert row.response["content"][0]["text"]


def test_a_stream_is_stored_as_its_assembled_answer(sandbox_catalog, funded_key, gateway,
                                                     sandbox):
    _log_content(funded_key.org)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                           max_retries=0, timeout=30)

    chunks = list(client.chat.completions.create(
        model="openai/gpt-4o-mini", stream=True,
        messages=[{"role": "user", "content": "Count to five"}]))

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = next(c.choices[0].finish_reason for c in reversed(chunks)
                  if c.choices and c.choices[0].finish_reason)
    row = _wait_content(chunks[0].id)
    assert text
    assert row.request == {"model": "openai/gpt-4o-mini", "stream": True,
                           "messages": [{"role": "user", "content": "Count to five"}]}
    assert row.response["streamed"] is True
    assert row.response["choices"] == [{"index": 0, "finish_reason": finish,
                                        "message": {"role": "assistant", "content": text}}]
    usage = chunks[-1].usage
    assert row.response["usage"]["completion_tokens"] == usage.completion_tokens
    assert row.response["usage"]["cost"] == api_usd(wait_usage_record(chunks[0].id).charge_nanos)


def test_nothing_is_stored_when_content_logging_is_off(sandbox_catalog, funded_key,
                                                       make_org_key, gateway, sandbox):
    # Off twice over: an org with no policy, and one whose policy leaves retention unset.
    unset = make_org_key()
    fund(unset.org, 10**10)
    _log_content(unset.org, days=None)
    logging_org = make_org_key()
    fund(logging_org.org, 10**10)
    _log_content(logging_org.org)

    quiet = [_post(gateway, key, "/v1/chat/completions", RAW) for key in (funded_key, unset)]
    stream = _post(gateway, funded_key, "/v1/chat/completions",
                   RAW.replace(b'"max_tokens"', b'"stream": true, "max_tokens"'))
    # Queued after the others, so once it is stored the others would have been too.
    marker = _post(gateway, logging_org, "/v1/chat/completions", RAW)

    assert all(r.status_code == 200 for r in (*quiet, stream, marker))
    _wait_content(marker.json()["id"])
    assert not RequestContent.objects.filter(
        org__in=[funded_key.org, unset.org]).exists()
    assert list(RequestContent.objects.values_list("org_id", flat=True)) == [
        logging_org.org.pk]


@pytest.mark.parametrize("days", [1, 30])
def test_retention_sets_when_content_expires(sandbox_catalog, funded_key, gateway, sandbox,
                                             days):
    _log_content(funded_key.org, days=days)

    answer = _post(gateway, funded_key, "/v1/chat/completions", RAW)

    row = _wait_content(answer.json()["id"])
    assert row.expires_at - row.created_at == dt.timedelta(days=days)
