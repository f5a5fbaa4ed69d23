"""BYOK end to end: the real openai SDK against a gateway process and the sandbox providers.

The sandbox logs each request's `credential_fingerprint` (SHA-256 of the credential, first 12
hex digits), so these tests prove which key reached the provider without any log holding one.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import httpx
import openai
import pytest

from compliance.byok import add_byok_key, remove_byok_key
from compliance.models import ByokKey
from marketplace.tenancy.models import AuditEntry, Role
from marketplace.tenancy.roles import Actor
from tests.gateway.conftest import fund
from tests.gateway.helpers import wait_usage_record

OWNER = Actor(role=Role.OWNER)
MODEL = "openai/gpt-4o-mini"
PLATFORM_PREFIX = "sk-sandbox-platform-"  # settings.SANDBOX_PROVIDER_KEY_PREFIX's default
pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def platform_fingerprint(slug: str) -> str:
    return fingerprint(PLATFORM_PREFIX + slug)


def new_key() -> str:
    # No known key shape: only the vault's registry of decrypted keys can redact it.
    return "byok" + secrets.token_hex(18)


def settle_rules() -> None:
    """Let the gateway drop its cached caller (Redis announces at once; the TTL is 1 s)."""
    time.sleep(1.2)


def add_key(org, key: str, **options) -> ByokKey:
    row, _ = add_byok_key(org=org, actor=OWNER, provider=options.pop("provider",
                                                                      "sandbox-openai"),
                          api_key=key, **options)
    settle_rules()
    return row


@pytest.fixture
def sdk(sandbox_catalog, funded_key, gateway, sandbox):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                         max_retries=0, timeout=60)


def ask(sdk, **provider):
    return sdk.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello from my own key"}],
        max_tokens=30, extra_body={"provider": provider} if provider else None)


def prints(sandbox, slug: str) -> list[str]:
    return [r["credential_fingerprint"] for r in sandbox.control.requests(slug)]


def test_the_orgs_key_is_used_first_and_the_platforms_once_it_is_removed(
        sdk, sandbox, funded_key, gateway):
    key = new_key()
    row = add_key(funded_key.org, key)

    answer = ask(sdk)  # no preference: the org's key puts sandbox-openai first
    assert prints(sandbox, "sandbox-openai") == [fingerprint(key)]
    assert prints(sandbox, "sandbox-openai-b") == []
    assert platform_fingerprint("sandbox-openai") != fingerprint(key)
    assert answer.model_dump()["usage"]["is_byok"] is True
    record = wait_usage_record(answer.id)
    assert record.is_byok and record.attempts[-1].get("byok") is True
    headers = {"Authorization": f"Bearer {funded_key.plaintext}"}
    generation = httpx.get(f"{gateway.url}/v1/generation", params={"id": answer.id},
                           headers=headers).json()["data"]
    assert generation["is_byok"] is True
    key_info = httpx.get(f"{gateway.url}/v1/key", headers=headers).json()["data"]
    assert key_info["byok_usage"] > 0

    remove_byok_key(org=funded_key.org, actor=OWNER, byok_id=row.pk)
    settle_rules()
    sandbox.control.clear_requests("sandbox-openai")
    answer = ask(sdk, order=["sandbox-openai"], allow_fallbacks=False)
    assert prints(sandbox, "sandbox-openai") == [platform_fingerprint("sandbox-openai")]
    assert answer.model_dump()["usage"]["is_byok"] is False
    assert not wait_usage_record(answer.id).is_byok


@pytest.mark.parametrize("stream", [False, True])
def test_a_rejected_key_falls_back_to_the_platforms_and_is_reported_once(
        stream, sdk, sandbox, funded_key):
    key = new_key()
    row = add_key(funded_key.org, key)
    sandbox.control.set_fault("sandbox-openai", error_status=401, fail_first_n=1)

    if stream:
        chunks = list(sdk.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hello from my own key"}],
            max_tokens=30, stream=True,
            extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}}))
        answer_id, usage = chunks[0].id, chunks[-1].model_dump()["usage"]
    else:
        answer = ask(sdk, order=["sandbox-openai"], allow_fallbacks=False)
        answer_id, usage = answer.id, answer.model_dump()["usage"]
    # The same endpoint, first with the org's key (refused), then with the platform's.
    assert prints(sandbox, "sandbox-openai") == [fingerprint(key),
                                                 platform_fingerprint("sandbox-openai")]
    assert usage["is_byok"] is False
    record = wait_usage_record(answer_id)
    assert not record.is_byok
    assert [(a["status"], a.get("byok", False)) for a in record.attempts] == [
        (401, True), (200, False)]

    deadline = time.monotonic() + 10
    while ByokKey.objects.get(pk=row.pk).rejected_at is None:
        assert time.monotonic() < deadline, "the rejection was not recorded"
        time.sleep(0.05)
    entries = AuditEntry.objects.filter(org=funded_key.org, action="byok_key.rejected")
    assert entries.count() == 1
    assert key not in str(entries[0].after) and key[-4:] in str(entries[0].after)


def test_always_use_never_sends_the_platforms_key_and_a_refused_key_leaves_the_breaker_shut(
        sdk, sandbox, funded_key, make_org_key, gateway):
    key = new_key()
    add_key(funded_key.org, key, always_use=True)
    sandbox.control.set_fault("sandbox-openai", error_status=401)

    for _ in range(7):  # more than the breaker's 5 consecutive failures
        with pytest.raises(openai.APIStatusError) as refused:
            ask(sdk, order=["sandbox-openai"], allow_fallbacks=False)
        assert refused.value.status_code == 502
    assert prints(sandbox, "sandbox-openai") == [fingerprint(key)] * 7
    # One audit entry for the key, however often the provider refused it.
    rejected = AuditEntry.objects.filter(org=funded_key.org, action="byok_key.rejected")
    deadline = time.monotonic() + 10
    while not rejected.exists():
        assert time.monotonic() < deadline, "the rejection was not recorded"
        time.sleep(0.05)
    time.sleep(0.3)
    assert rejected.count() == 1

    # Another org, on the platform's key, still reaches the endpoint: no breaker opened.
    sandbox.control.clear_fault("sandbox-openai")
    sandbox.control.clear_requests("sandbox-openai")
    other = make_org_key()
    fund(other.org, 10**10)
    other_sdk = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=other.plaintext,
                              max_retries=0, timeout=60)
    answer = ask(other_sdk, order=["sandbox-openai"], allow_fallbacks=False)
    assert answer.choices[0].message.content
    assert prints(sandbox, "sandbox-openai") == [platform_fingerprint("sandbox-openai")]


def test_a_keys_base_url_is_where_its_requests_go(sdk, sandbox, funded_key):
    key = new_key()
    add_key(funded_key.org, key, base_url=f"{sandbox.base_url}/byok-own-deployment/v1",
            always_use=True)
    answer = ask(sdk, order=["sandbox-openai"], allow_fallbacks=False)
    assert answer.model_dump()["usage"]["is_byok"] is True
    assert prints(sandbox, "byok-own-deployment") == [fingerprint(key)]
    assert prints(sandbox, "sandbox-openai") == []
    sandbox.control.clear_requests("byok-own-deployment")
