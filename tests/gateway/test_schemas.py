"""Our /v1 answers validate against OpenRouter's published OpenAPI description."""

import time
from functools import lru_cache

import httpx
import orjson
import yaml
from openapi_schema_validator import OAS31Validator

from tests.gateway.helpers import wait_usage_record
from tests.openrouter_schema import SPEC_PATH, _components, validate


@lru_cache(maxsize=1)
def _paths() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as handle:
        return yaml.load(handle, Loader=loader)["paths"]  # noqa: S506  (a safe loader)


def validate_path_answer(instance, path: str) -> None:
    """Validate against a path's inline 200 schema (/key and /credits have no component)."""
    schema = _paths()[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": _components()}).validate(instance)


def test_answers_validate_against_openrouter_schemas(sandbox_catalog, funded_key,
                                                     gateway, sandbox):
    http = httpx.Client(base_url=gateway.url, timeout=30,
                        headers={"Authorization": f"Bearer {funded_key.plaintext}"})
    body = {"model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "Describe a lighthouse"}]}

    completion = http.post("/v1/chat/completions", json=body).json()
    validate(completion, "ChatResult")
    assert isinstance(completion["usage"]["cost"], float | int)

    streamed = http.post("/v1/chat/completions", json={**body, "stream": True}).text
    events = [line[6:] for line in streamed.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    for event in events[:-1]:
        validate(orjson.loads(event), "ChatStreamChunk")

    message = http.post("/v1/messages", json={
        "model": "anthropic/claude-sonnet-4", "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}]}).json()
    validate(message, "MessagesResult")

    wait_usage_record(completion["id"])
    generation = http.get("/v1/generation", params={"id": completion["id"]})
    assert generation.status_code == 200
    validate(generation.json(), "GenerationResponse")
    data = generation.json()["data"]
    assert data["tokens_completion"] == completion["usage"]["completion_tokens"]
    assert data["total_cost"] == completion["usage"]["cost"]

    validate_path_answer(http.get("/v1/key").json(), "/key")
    credits = http.get("/v1/credits").json()
    validate_path_answer(credits, "/credits")
    assert credits["data"]["total_credits"] == 10

    models = http.get("/v1/models").json()
    validate(models, "ModelsListResponse")
    endpoints = http.get("/v1/models/openai/gpt-4o-mini/endpoints")
    assert endpoints.status_code == 200
    assert {e["tag"] for e in endpoints.json()["data"]["endpoints"]} == {
        "sandbox-openai", "sandbox-openai-b"}
    http.close()


def test_generation_is_the_org_own_only(sandbox_catalog, funded_key, make_org_key,
                                        gateway, sandbox):
    other = make_org_key()
    mine = httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {funded_key.plaintext}"},
                      json={"model": "openai/gpt-4o-mini",
                            "messages": [{"role": "user", "content": "hi"}]}).json()
    wait_usage_record(mine["id"])

    def lookup(key, generation_id):
        return httpx.get(f"{gateway.url}/v1/generation", params={"id": generation_id},
                         headers={"Authorization": f"Bearer {key}"}, timeout=10)

    assert lookup(funded_key.plaintext, mine["id"]).status_code == 200
    assert lookup(other.plaintext, mine["id"]).status_code == 404
    assert lookup(funded_key.plaintext, "gen-nope").status_code == 404
    assert lookup(funded_key.plaintext, "").status_code == 400


def test_no_credit_is_402_before_any_provider_call(sandbox_catalog, make_org_key,
                                                   gateway, sandbox):
    broke = make_org_key()
    response = httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30,
                          headers={"Authorization": f"Bearer {broke.plaintext}"},
                          json={"model": "openai/gpt-4o-mini",
                                "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 402
    assert response.json()["error"]["code"] == 402
    time.sleep(0.2)
    assert sandbox.control.requests("sandbox-openai") == []
    assert sandbox.control.requests("sandbox-openai-b") == []


def test_generation_is_found_right_after_the_answer(sandbox_catalog, funded_key, start_gateway,
                                                    sandbox):
    # A settle window far longer than the test: the record exists only if the lookup flushes.
    gateway = start_gateway(HOTPATH_SETTLE_WINDOW_MS="60000")
    headers = {"Authorization": f"Bearer {funded_key.plaintext}"}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as http:
        answer = http.post("/v1/chat/completions", json={
            "model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).json()
        found = http.get("/v1/generation", params={"id": answer["id"]})
    assert found.status_code == 200
    assert found.json()["data"]["tokens_completion"] == answer["usage"]["completion_tokens"]
