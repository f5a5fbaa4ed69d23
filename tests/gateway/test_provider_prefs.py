"""OpenRouter's `provider` preferences end to end: each changes who serves, or says why not."""

import httpx
import pytest


@pytest.fixture
def chat(sandbox_catalog, funded_key, gateway, sandbox):
    http = httpx.Client(base_url=gateway.url, timeout=30,
                        headers={"Authorization": f"Bearer {funded_key.plaintext}"})

    def post(provider, **extra):
        return http.post("/v1/chat/completions", json={
            "model": "openai/gpt-4o-mini", "provider": provider,
            "messages": [{"role": "user", "content": "hello"}], **extra})

    yield post
    http.close()


# Caller prices with the 5.5% default margin: A $0.15825/M in, B $0.3165/M in.
SERVED = [
    ({"order": ["sandbox-openai-b"]}, "Sandbox OpenAI B"),
    ({"order": ["sandbox-openai"]}, "Sandbox OpenAI"),
    ({"only": ["sandbox-openai-b"]}, "Sandbox OpenAI B"),
    ({"ignore": ["sandbox-openai"]}, "Sandbox OpenAI B"),
    ({"sort": "price"}, "Sandbox OpenAI"),
    ({"order": ["sandbox-openai-b"], "sort": "price"}, "Sandbox OpenAI B"),
    ({"max_price": {"prompt": 0.2}}, "Sandbox OpenAI"),
    ({"zdr": True, "data_collection": "deny", "sort": "price"}, "Sandbox OpenAI"),
]
IMPOSSIBLE = [
    ({"max_price": {"prompt": 0.1}}, {"provider.max_price.prompt"}),
    ({"quantizations": ["fp8"]}, {"provider.quantizations"}),
    ({"only": ["nobody"]}, {"provider.only"}),
    ({"ignore": ["sandbox-openai", "sandbox-openai-b"]}, {"provider.ignore"}),
]


def test_each_preference_changes_the_choice_as_documented(chat):
    for provider, served_by in SERVED:
        response = chat(provider)
        assert response.status_code == 200, (provider, response.text)
        assert response.json()["provider"] == served_by, provider


def test_impossible_preferences_give_503_naming_each_exclusion(chat, sandbox):
    for provider, reasons in IMPOSSIBLE:
        response = chat(provider)
        assert response.status_code == 503, (provider, response.text)
        error = response.json()["error"]
        excluded = error["metadata"]["excluded"]
        assert {e["reason"] for e in excluded} == reasons, provider
        assert {e["endpoint"] for e in excluded} == {
            "openai/gpt-4o-mini@sandbox-openai", "openai/gpt-4o-mini@sandbox-openai-b"}
        for reason in reasons:
            assert reason in error["message"]
    assert sandbox.control.requests("sandbox-openai") == []


def test_models_fallback_list_is_billed_at_the_model_used(chat, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=503)
    sandbox.control.set_fault("sandbox-openai-b", error_status=503)
    response = chat({}, models=["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"])

    assert response.status_code == 200, response.text
    assert response.json()["model"] == "anthropic/claude-sonnet-4"
    assert response.json()["provider"] == "Sandbox Anthropic"


def test_floor_suffix_sorts_by_price(chat):
    response = chat({}, model="openai/gpt-4o-mini:floor")

    assert response.status_code == 200
    assert response.json()["provider"] == "Sandbox OpenAI"
    assert response.json()["model"] == "openai/gpt-4o-mini"
