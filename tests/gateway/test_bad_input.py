"""Bad input never reaches a provider and never answers 500: 4xx naming the problem."""

import httpx
import pytest

pytestmark = pytest.mark.gateway_env(GATEWAY_MAX_BODY_BYTES="65536")


@pytest.fixture
def post(sandbox_catalog, funded_key, gateway, sandbox):
    client = httpx.Client(base_url=gateway.url, timeout=30,
                          headers={"Authorization": f"Bearer {funded_key.plaintext}"})
    yield lambda path, **kw: client.post(path, **kw)
    client.close()


MSGS = [{"role": "user", "content": "hi"}]
WRONG = [
    ({"model": "openai/gpt-4o-mini"}, "messages"),
    ({"model": "openai/gpt-4o-mini", "messages": []}, "messages"),
    ({"model": 42, "messages": MSGS}, "model"),
    ({"model": "openai/gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]},
     "messages[0].role"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "temperature": "hot"}, "temperature"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "temperature": 3}, "temperature"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "max_tokens": 0}, "max_tokens"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "max_tokens": True}, "max_tokens"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "stream": "yes"}, "stream"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "tools": {"a": 1}}, "tools"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "provider": {"sort": "vibes"}},
     "provider.sort"),
    ({"model": "openai/gpt-4o-mini", "messages": MSGS, "response_format": {"type": "xml"}},
     "response_format"),
]


# One gateway process serves every case below (starting one costs seconds).
def test_bad_input_is_4xx_naming_the_problem_never_500(post, sandbox):
    for body, param in WRONG:
        response = post("/v1/chat/completions", json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == 400
        assert error["metadata"]["param"] == param
        assert param.split("[")[0].split(".")[0] in error["message"]
    assert sandbox.control.requests("sandbox-openai") == []

    for raw in (b"{not json", b"[1, 2]", b""):
        response = post("/v1/chat/completions", content=raw,
                        headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["metadata"]["param"] == "body"

    big = "x" * 70_000
    response = post("/v1/chat/completions",
                    json={"model": "openai/gpt-4o-mini",
                          "messages": [{"role": "user", "content": big}]})

    assert response.status_code == 400
    assert response.json()["error"]["metadata"]["reason"] == "request_too_large"

    response = post("/v1/chat/completions", json={"model": "nobody/nothing", "messages": MSGS})

    assert response.status_code == 404
    assert response.json()["error"]["metadata"]["param"] == "model"

    assert post("/v1/nothing-here", json={}).status_code == 404
    assert post("/v1/models", json={}).status_code == 404

    response = post("/v1/messages", json={"model": "anthropic/claude-sonnet-4",
                                          "messages": MSGS})  # max_tokens is required there
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_fields_are_ignored_unless_parameters_are_required(post, sandbox):
    ok = post("/v1/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": MSGS,
                                            "frobnicate": 3,
                                            "provider": {"order": ["sandbox-openai"]}})
    assert ok.status_code == 200
    assert "frobnicate" not in sandbox.control.requests("sandbox-openai")[-1]["body"]

    strict = post("/v1/chat/completions", json={
        "model": "openai/gpt-4o-mini", "messages": MSGS, "frobnicate": 3,
        "provider": {"require_parameters": True}})
    assert strict.status_code == 503
    reasons = {e["reason"] for e in strict.json()["error"]["metadata"]["excluded"]}
    assert reasons == {"provider.require_parameters"}
