"""A client that hangs up cancels the upstream call; the request is still settled and recorded."""

import httpx
import pytest

from billing.models import Hold, HoldStatus
from tests.gateway.helpers import wait_usage_record


@pytest.fixture
def gateway(sandbox_catalog, gateway, sandbox):
    return gateway


def test_disconnect_mid_stream_records_a_cancelled_streamed_request(gateway, funded_key,
                                                                    sandbox):
    sandbox.control.set_fault("sandbox-openai", inter_chunk_ms=300)
    with httpx.Client(timeout=30) as http, http.stream(
            "POST", f"{gateway.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {funded_key.plaintext}"},
            json={"model": "openai/gpt-4o-mini", "stream": True,
                  "provider": {"order": ["sandbox-openai"], "allow_fallbacks": False},
                  "messages": [{"role": "user", "content": "Write a long story " * 5}]}
    ) as response:
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    # Leaving the block closed the connection after the first chunk.

    record = wait_usage_record(request_id, timeout_s=10)
    assert record.cancelled is True and record.streamed is True
    assert record.finish_reason == "cancelled"
    assert not Hold.objects.filter(request_id=request_id, status=HoldStatus.OPEN).exists()


def test_disconnect_while_waiting_for_a_json_answer(gateway, funded_key, sandbox):
    sandbox.control.set_fault("sandbox-openai", latency_ms=5_000)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{gateway.url}/v1/chat/completions", timeout=1.5,
                   headers={"Authorization": f"Bearer {funded_key.plaintext}"},
                   json={"model": "openai/gpt-4o-mini",
                         "provider": {"order": ["sandbox-openai"], "allow_fallbacks": False},
                         "messages": [{"role": "user", "content": "slow"}]})

    hold = Hold.objects.get(org=funded_key.org)
    record = wait_usage_record(hold.request_id, timeout_s=10)
    assert record.cancelled is True and record.streamed is False
    hold.refresh_from_db()
    assert hold.status != HoldStatus.OPEN
