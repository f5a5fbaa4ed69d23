"""Hostile /v1 inputs that once answered 500: each is now a 400 naming the field, OpenAI-style."""

import json

import httpx
import pytest

MSGS = [{"role": "user", "content": "hi"}]
BODY = {"model": "openai/gpt-4o-mini", "messages": MSGS}


class nested:  # lower case: reads as a value in the tables below
    """A placeholder for `depth` nested lists, spliced into the JSON text (json.dumps recurses)."""

    def __init__(self, depth: int):
        self.depth = depth


def encode(body: dict) -> bytes:
    deep: list[int] = []

    def mark(value):
        deep.append(value.depth)
        return f"@@{len(deep) - 1}@@"

    text = json.dumps(body, default=mark)
    for i, depth in enumerate(deep):
        text = text.replace(f'"@@{i}@@"', "[" * depth + "]" * depth)
    return text.encode()


def post(client: httpx.Client, path: str, body: dict) -> httpx.Response:
    return client.post(path, content=encode(body), headers={"content-type": "application/json"})


@pytest.fixture
def client(sandbox_catalog, funded_key, gateway, sandbox):
    with httpx.Client(base_url=gateway.url, timeout=30,
                      headers={"Authorization": f"Bearer {funded_key.plaintext}"}) as client:
        yield client


def _assert_400(response: httpx.Response, param: str) -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["type"] == "invalid_request_error"
    assert error["metadata"] == {"reason": "invalid_request", "param": param}
    return error


HOSTILE = [
    ({**BODY, "max_cost": 1e308}, "max_cost"),
    ({**BODY, "max_cost": 1_000_001}, "max_cost"),
    ({**BODY, "max_cost": -1}, "max_cost"),
    ({**BODY, "max_cost": "NaN"}, "max_cost"),
    ({**BODY, "provider": {"max_price": {"prompt": "NaN"}}}, "provider.max_price.prompt"),
    ({**BODY, "provider": {"max_price": {"prompt": "Infinity"}}}, "provider.max_price.prompt"),
    ({**BODY, "provider": {"max_price": {"completion": "-Infinity"}}},
     "provider.max_price.completion"),
    ({**BODY, "provider": {"max_price": {"prompt": "sNaN"}}}, "provider.max_price.prompt"),
    ({**BODY, "provider": {"max_price": {"prompt": 1e300}}}, "provider.max_price.prompt"),
    ({**BODY, "provider": {"max_price": {"prompt": True}}}, "provider.max_price.prompt"),
    ({**BODY, "tool_choice": {"type": "function", "function": "get_weather"}}, "tool_choice"),
    ({**BODY, "tool_choice": {"type": "function", "function": ["x"]}}, "tool_choice"),
    ({**BODY, "messages": [{"role": [], "content": "hi"}]}, "messages[0].role"),
    ({**BODY, "messages": [{"role": {"a": 1}, "content": "hi"}]}, "messages[0].role"),
    ({**BODY, "metadata": nested(255)}, "body"),
    ({**BODY, "metadata": nested(600)}, "body"),
    ({**BODY, "messages": [{"role": "user", "content": [{"type": "x", "v": nested(300)}]}]},
     "body"),
    ({**BODY, "tools": [{"type": "function", "function": {"name": "f",
                                                          "parameters": {"a": nested(1000)}}}]},
     "body"),
]


def test_hostile_chat_bodies_are_400_naming_the_field(client, sandbox):
    for body, param in HOSTILE:
        error = _assert_400(post(client, "/v1/chat/completions", body), param)
        assert param.split(".")[0].split("[")[0] in error["message"], error
    # Past orjson's own 1024 levels the body is not JSON to it: still a 400 on `body`.
    _assert_400(post(client, "/v1/chat/completions", {**BODY, "metadata": nested(1100)}),
                "body")
    assert sandbox.control.requests("sandbox-openai") == []


def test_deep_nesting_within_the_bound_still_routes(client):
    response = post(client, "/v1/chat/completions", {**BODY, "metadata": nested(100)})
    assert response.status_code == 200, response.text


def test_messages_endpoint_refuses_deep_nesting_in_anthropic_shape(client):
    response = post(client, "/v1/messages", {
        "model": "anthropic/claude-sonnet-4", "max_tokens": 16, "messages": MSGS,
        "metadata": nested(400)})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["metadata"]["param"] == "body"


@pytest.mark.postgres
def test_generation_id_with_a_nul_byte_is_400(client):
    _assert_400(client.get("/v1/generation", params={"id": "gen-\x00-1"}), "id")
