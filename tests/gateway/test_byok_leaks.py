"""A BYOK key never leaks: across every fault the sandbox can inject, with the key echoed back
by the provider too, neither the key nor its first 12 characters appear in any answer, log
line (the gateway process's and this one's), usage record or audit entry."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest

from billing.models import UsageRecord
from marketplace.tenancy.models import AuditEntry
from tests.gateway.test_byok_keys import add_key, new_key

pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")


def _faults(key: str) -> dict[str, dict]:
    """Every field of routing/sandbox/faults.py, alone or where it needs a partner."""
    echo = {"error": {"message": f"Incorrect API key provided: {key}",
                      "type": "invalid_request_error", "code": "invalid_api_key"}}
    return {
        "400": {"error_status": 400},
        "401": {"error_status": 401},
        "401 echoing the key": {"error_status": 401, "error_body": echo},
        "403 echoing the key": {"error_status": 403, "error_body": echo},
        "404": {"error_status": 404},
        "422 echoing the key": {"error_status": 422, "error_body": echo},
        "500 echoing headers": {"error_status": 500,
                                "error_body": f"boom: Authorization: Bearer {key}; key={key}"},
        "503 half the time": {"error_status": 503, "error_rate": 0.5},
        "429": {"rate_limit": True, "retry_after_s": 0},
        "429 echoing the key": {"rate_limit": True, "retry_after_s": 5, "error_body": echo},
        "first request fails": {"fail_first_n": 1},
        "reset before answering": {"reset_after_bytes": 0},
        "reset mid-answer": {"reset_after_bytes": 120},
        "stall": {"stall": True},
        "stall mid-answer": {"stall_after_bytes": 120},
        "malformed JSON": {"malformed_json": True},
        "slow": {"latency_ms": 30, "ttft_ms": 30, "inter_chunk_ms": 5},
    }


FAULT_NAMES = list(_faults("k"))


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_no_fault_leaks_the_key(fault, sandbox_catalog, funded_key, gateway, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    key = new_key()
    add_key(funded_key.org, key, always_use=True)
    sandbox.control.set_fault("sandbox-openai", **_faults(key)[fault])
    seen: list[str] = []
    headers = {"Authorization": f"Bearer {funded_key.plaintext}"}
    with httpx.Client(base_url=gateway.url, timeout=60, headers=headers) as client:
        for stream in (False, True):
            response = client.post("/v1/chat/completions", json={
                "model": "openai/gpt-4o-mini", "stream": stream, "max_tokens": 40,
                "provider": {"order": ["sandbox-openai"], "allow_fallbacks": False},
                "messages": [{"role": "user", "content": "Tell me a short story"}]})
            seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        ids = _ids("".join(seen))
        for request_id in ids:
            seen.append(client.get("/v1/generation", params={"id": request_id}).text)
        seen.append(client.get("/v1/key").text)
    # The requests reached the provider with the key (else this proves nothing).
    sent = sandbox.control.requests("sandbox-openai")
    assert sent and all(r["credential_fingerprint"] != "none" for r in sent)
    assert key not in json.dumps(sent)

    records = UsageRecord.objects.filter(org=funded_key.org)
    seen.append(json.dumps(list(records.values("attempts", "finish_reason")), default=str))
    seen.append(json.dumps(list(AuditEntry.objects.filter(org=funded_key.org).values()),
                           default=str))
    seen.append(gateway.log_text())
    seen.append(caplog.text)
    if fault == "slow":  # both served: their generations were read too
        assert len(ids) == 2 and all('"is_byok":true' in text for text in seen[2:4])
    everything = "\n".join(seen)
    assert key not in everything
    assert key[:12] not in everything


def _ids(text: str) -> list[str]:
    """The generation ids an answer (JSON or SSE) names."""
    return sorted(set(re.findall(r'"id": ?"(gen-[^"]+)"', text)))
