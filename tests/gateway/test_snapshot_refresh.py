"""A catalog change reaches a running gateway within seconds, without a restart."""

import time

import httpx

from catalog import services as catalog_services
from tests.gateway.conftest import MINI_PRICE, OPENAI_PARAMS


def test_new_model_becomes_routable_and_a_disabled_endpoint_stops_serving(
        sandbox_catalog, funded_key, gateway, sandbox):
    http = httpx.Client(base_url=gateway.url, timeout=30,
                        headers={"Authorization": f"Bearer {funded_key.plaintext}"})
    body = {"model": "openai/gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert http.post("/v1/chat/completions", json=body).status_code == 404

    model = catalog_services.create_model(slug="openai/gpt-4.1-mini", name="gpt-4.1-mini",
                                          context_length=128_000, input_modalities=["text"],
                                          output_modalities=["text"])
    catalog_services.create_endpoint(
        model=model, provider=sandbox_catalog.providers["sandbox-openai"],
        upstream_model_id="gpt-4.1-mini", context_length=128_000, max_output_tokens=8_192,
        supported_parameters=OPENAI_PARAMS, price=dict(MINI_PRICE))
    deadline = time.monotonic() + 10
    while (response := http.post("/v1/chat/completions", json=body)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.5)
    assert response.json()["model"] == "openai/gpt-4.1-mini"

    catalog_services.disable_endpoint(
        sandbox_catalog.endpoints[("openai/gpt-4o-mini", "sandbox-openai")])
    prefer_a = {"model": "openai/gpt-4o-mini", "provider": {"order": ["sandbox-openai"]},
                "messages": [{"role": "user", "content": "hi"}]}
    deadline = time.monotonic() + 10
    while http.post("/v1/chat/completions", json=prefer_a).json()["provider"] != \
            "Sandbox OpenAI B":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    http.close()
