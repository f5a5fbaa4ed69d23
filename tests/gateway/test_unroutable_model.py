"""Under the sandbox, a model none of whose providers is available here answers 503 saying so,
and names a routable alternative (computed with the snapshot, not per request)."""

import uuid

import httpx
import pytest

from tests.gateway.conftest import wait_for_models

PRICE = {"input_nanos_per_m": 2_000_000_000, "output_nanos_per_m": 8_000_000_000}


@pytest.fixture
def unroutable(sandbox_catalog):
    """Two models served only by a real (non-sandbox) provider, unavailable under SANDBOX=1:
    one by an author with routable models (openai), one by an author with none (mistralai)."""
    from catalog import services

    real = services.create_provider(slug="openai", name="OpenAI", wire_format="openai",
                                    base_url="https://api.openai.com/v1", regions=["us"])
    description = f"Unroutable {uuid.uuid4().hex[:12]}"
    models = {}
    for slug, inputs in (("openai/gpt-4.1", ["text", "image"]),
                         ("mistralai/mistral-large", ["text"])):
        models[slug] = services.create_model(slug=slug, name=slug, description=description,
                                             context_length=128_000, input_modalities=inputs)
        services.create_endpoint(model=models[slug], provider=real, upstream_model_id=slug,
                                 context_length=128_000, max_output_tokens=16_384,
                                 input_modalities=inputs, price=dict(PRICE))
    return {slug: description for slug in models}


@pytest.fixture
def chat(unroutable, funded_key, gateway, sandbox):
    wait_for_models(gateway, funded_key.plaintext, unroutable)
    http = httpx.Client(base_url=gateway.url, timeout=30,
                        headers={"Authorization": f"Bearer {funded_key.plaintext}"})

    def post(model, **extra):
        return http.post("/v1/chat/completions", json={
            "model": model, "messages": [{"role": "user", "content": "hello"}], **extra})

    yield post
    http.close()


def test_unroutable_model_names_the_same_authors_cheapest_routable_model(chat, sandbox):
    response = chat("openai/gpt-4.1")
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == 503 and error["type"] == "api_error"
    assert error["metadata"]["reason"] == "no_endpoint"
    assert "'openai/gpt-4.1' has no routable endpoint here" in error["message"]
    # gpt-4o-mini is openai's only routable model (sandbox-openai at $0.15/$0.60 per M).
    assert "a routable alternative is 'openai/gpt-4o-mini'" in error["message"]
    assert error["metadata"]["routable_alternative"] == "openai/gpt-4o-mini"
    assert error["metadata"]["excluded_by"] == {
        "provider_unavailable": ["openai/gpt-4.1@openai"]}
    # The alternative really is routable.
    assert chat("openai/gpt-4o-mini").status_code == 200


def test_an_author_with_nothing_routable_gets_a_model_of_overlapping_capability(chat):
    error = chat("mistralai/mistral-large").json()["error"]
    assert "'mistralai/mistral-large' has no routable endpoint here" in error["message"]
    # Text in, text out: every sandbox model covers it; gpt-4o-mini is the cheapest.
    assert error["metadata"]["routable_alternative"] == "openai/gpt-4o-mini"


def test_a_routable_fallback_serves_instead_of_the_503(chat):
    response = chat("openai/gpt-4.1", models=["anthropic/claude-sonnet-4"])
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "anthropic/claude-sonnet-4"


def test_a_routable_model_excluded_by_preferences_keeps_the_plain_message(chat):
    error = chat("openai/gpt-4o-mini", provider={"only": ["nobody"]}).json()["error"]
    assert "no routable endpoint" not in error["message"]
    assert "routable_alternative" not in error["metadata"]
