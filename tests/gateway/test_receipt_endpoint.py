"""GET /v1/generation/receipt and /.well-known/jwks.json against a real gateway process.

An auditor's check, end to end: a request through the gateway, its receipt over /v1, the JWKS
over HTTP, and PyJWT alone to verify; every claim equals the usage record, and the request hash
is the SHA-256 of the exact bytes sent.
"""

import hashlib
import json

import httpx
import jwt
import openai
import pytest

from billing.models import UsageRecord
from compliance.receipts import b64url, new_seed, signing_key
from core.money import api_usd
from tests.gateway.helpers import wait_usage_record

# Unusual but valid JSON, byte for byte: spacing, an escape, raw UTF-8, a trailing newline.
RAW_CHAT = (b'{ "model" :"openai/gpt-4o-mini",\n  "max_tokens": 8,'
            b' "messages": [ {"role": "user", "content": "h\\u00e9llo \xe2\x9c\x93"} ] }\n')
RAW_MESSAGES = (b'{"model": "anthropic/claude-sonnet-4",  "max_tokens": 8,\t'
                b'"messages": [{"role": "user", "content": "receipt, please"}]}')


@pytest.fixture
def client(sandbox_catalog, funded_key, gateway, sandbox):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                         max_retries=0, timeout=30)


def _auth(key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.plaintext}"}


def _receipt(server, key, generation_id, **headers) -> httpx.Response:
    return httpx.get(f"{server.url}/v1/generation/receipt", params={"id": generation_id},
                     headers={**_auth(key), **headers}, timeout=30)


def _verify(server, token: str) -> dict:
    """As an auditor would: the JWKS fetched over HTTP, PyJWT, EdDSA only."""
    key = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["EdDSA"])


def _claims_of(record: UsageRecord, server) -> dict:
    return {
        "iss": server.url, "sub": record.request_id, "jti": record.request_id,
        "iat": int(record.created_at.timestamp()), "org": record.org_id,
        "key_id": record.api_key_id, "model": record.served_model,
        "provider": record.provider_slug, "region": record.region, "is_byok": record.is_byok,
        "zdr": record.zdr, "policy_version": record.policy_version,
        "prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens,
        "cost": api_usd(record.charge_nanos), "request_sha256": record.request_sha256,
    }


def test_the_receipt_of_an_sdk_request_verifies_and_states_its_usage_record(
        client, funded_key, gateway):
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}],
        extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}})

    # Asked at once: the usage record is batched, the receipt still finds it.
    response = _receipt(gateway, funded_key, completion.id)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    claims = _verify(gateway, data["receipt"])
    record = UsageRecord.objects.get(request_id=completion.id)
    assert claims == _claims_of(record, gateway)
    assert (claims["org"], claims["key_id"]) == (funded_key.org.pk, funded_key.key.pk)
    assert (claims["model"], claims["provider"], claims["region"]) == (
        "openai/gpt-4o-mini", "sandbox-openai", "local")
    assert claims["cost"] == api_usd(record.charge_nanos) and record.charge_nanos > 0
    assert claims["prompt_tokens"] == completion.usage.prompt_tokens
    assert data["id"] == completion.id
    assert data["kid"] == jwt.get_unverified_header(data["receipt"])["kid"]
    assert data["jwks_uri"] == f"{gateway.url}/.well-known/jwks.json"


def test_the_request_hash_is_of_the_exact_bytes_received(sandbox_catalog, funded_key, gateway):
    for path, raw in (("/v1/chat/completions", RAW_CHAT), ("/v1/messages", RAW_MESSAGES)):
        answer = httpx.post(f"{gateway.url}{path}", content=raw, timeout=30,
                            headers={**_auth(funded_key), "Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        generation_id = answer.headers["x-request-id"]

        claims = _verify(gateway, _receipt(gateway, funded_key, generation_id).json()["data"][
            "receipt"])

        assert claims["request_sha256"] == hashlib.sha256(raw).hexdigest()
        assert wait_usage_record(generation_id).request_sha256 == claims["request_sha256"]
        # Not the hash of the same JSON re-serialized.
        assert claims["request_sha256"] != hashlib.sha256(
            json.dumps(json.loads(raw)).encode()).hexdigest()


def test_a_tampered_claim_fails_verification(client, funded_key, gateway):
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
    token = _receipt(gateway, funded_key, completion.id).json()["data"]["receipt"]
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))

    for claim, value in (("cost", "0"), ("provider", "sandbox-openai-b"), ("region", "eu"),
                         ("zdr", not claims["zdr"]), ("prompt_tokens", 1)):
        forged = ".".join([header, b64url(json.dumps({**claims, claim: value}).encode()),
                           signature])
        with pytest.raises(jwt.InvalidSignatureError):
            _verify(gateway, forged)
    assert _verify(gateway, token) == claims


def test_the_bare_jws_on_request(client, funded_key, gateway):
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])

    response = _receipt(gateway, funded_key, completion.id, Accept="application/jose")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jose"
    assert _verify(gateway, response.text)["sub"] == completion.id


def test_another_orgs_generation_is_404_exactly_as_a_missing_one(
        client, funded_key, make_org_key, gateway):
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "mine"}])
    wait_usage_record(completion.id)
    stranger = make_org_key()

    theirs = _receipt(gateway, stranger, completion.id)
    missing = _receipt(gateway, stranger, "gen-that-never-was")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert "receipt" not in theirs.text
    # Same key on the same id: found.
    assert _receipt(gateway, funded_key, completion.id).status_code == 200


def test_no_id_is_a_400_and_no_key_a_401(funded_key, gateway):
    assert _receipt(gateway, funded_key, "").status_code == 400
    unauthenticated = httpx.get(f"{gateway.url}/v1/generation/receipt", params={"id": "x"})
    assert unauthenticated.status_code == 401


def test_the_jwks_is_public_cacheable_and_holds_public_keys_only(gateway):
    response = httpx.get(f"{gateway.url}/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert "public" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert keys and all(k.keys() == {"kty", "crv", "x", "kid", "alg", "use"} for k in keys)
    assert {(k["kty"], k["crv"], k["alg"], k["use"]) for k in keys} == {
        ("OKP", "Ed25519", "EdDSA", "sig")}


def test_receipts_signed_before_a_rotation_still_verify(sandbox_catalog, funded_key,
                                                         start_gateway, sandbox):
    old, new = new_seed(), new_seed()
    before = start_gateway(RECEIPT_SIGNING_KEYS=old)
    answer = httpx.post(f"{before.url}/v1/chat/completions", headers=_auth(funded_key),
                        timeout=30, json={"model": "openai/gpt-4o-mini", "max_tokens": 8,
                                          "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text
    old_receipt = _receipt(before, funded_key, answer.json()["id"]).json()["data"]["receipt"]

    after = start_gateway(RECEIPT_SIGNING_KEYS=f"{new},{old}")
    published = httpx.get(f"{after.url}/.well-known/jwks.json").json()["keys"]
    new_receipt = _receipt(after, funded_key, answer.json()["id"]).json()["data"]["receipt"]

    assert [k["kid"] for k in published] == [signing_key(new).kid, signing_key(old).kid]
    assert jwt.get_unverified_header(old_receipt)["kid"] == signing_key(old).kid
    assert jwt.get_unverified_header(new_receipt)["kid"] == signing_key(new).kid
    old_claims = _verify(after, old_receipt)
    new_claims = _verify(after, new_receipt)
    assert {**old_claims, "iss": None} == {**new_claims, "iss": None}
    assert old_claims["sub"] == answer.json()["id"]
