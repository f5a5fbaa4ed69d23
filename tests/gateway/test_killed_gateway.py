"""A gateway killed with SIGKILL mid-request leaves a hold the billing sweep settles."""

import contextlib
import os
import signal
import threading
import time

import httpx
import pytest

from billing.models import Hold, HoldStatus, UsageRecord, Wallet
from billing.tasks.sweep import sweep_stale_holds


@pytest.mark.postgres
def test_sigkill_mid_request_is_settled_by_the_sweep(sandbox_catalog, funded_key,
                                                     start_gateway, sandbox):
    # A short request deadline, so the orphaned hold is sweepable within the test.
    gateway = start_gateway(GATEWAY_REQUEST_DEADLINE_S="2", GATEWAY_HOLD_GRACE_S="0")
    sandbox.control.set_fault("sandbox-openai", latency_ms=30_000)
    sandbox.control.set_fault("sandbox-openai-b", latency_ms=30_000)
    balance_before = Wallet.objects.get(org=funded_key.org).balance_nanos

    def call():
        with contextlib.suppress(httpx.TransportError):  # the server dies under us: expected
            httpx.post(f"{gateway.url}/v1/chat/completions", timeout=60,
                       headers={"Authorization": f"Bearer {funded_key.plaintext}"},
                       json={"model": "openai/gpt-4o-mini",
                             "messages": [{"role": "user", "content": "never answered"}]})

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 20
    while not Hold.objects.filter(org=funded_key.org, status=HoldStatus.OPEN).exists():
        assert time.monotonic() < deadline, "no hold was placed"
        time.sleep(0.05)
    hold = Hold.objects.get(org=funded_key.org, status=HoldStatus.OPEN)
    os.kill(gateway.pid, signal.SIGKILL)
    caller.join(timeout=30)
    assert not UsageRecord.objects.filter(request_id=hold.request_id).exists()

    while hold.deadline_at.timestamp() >= time.time():
        time.sleep(0.2)
    assert sweep_stale_holds() == 1

    record = UsageRecord.objects.get(request_id=hold.request_id)
    hold.refresh_from_db()
    assert hold.status == HoldStatus.SWEPT
    assert record.org_id == funded_key.org.pk
    # The hold carries what the sweep prices with, even if the catalog row changes later.
    assert hold.provider_slug in {"sandbox-openai", "sandbox-openai-b"}
    assert record.provider_slug == hold.provider_slug
    assert hold.input_nanos_per_m > 0
    assert record.estimated is True
    assert record.prompt_tokens == hold.prompt_upper_bytes
    assert record.charge_nanos > 0
    wallet = Wallet.objects.get(org=funded_key.org)
    assert wallet.held_nanos == 0
    assert wallet.balance_nanos == balance_before - record.charge_nanos
