"""Hypothesis over `/v1/chat/completions` bodies against the live gateway: never a 5xx.

Bodies mix valid and invalid fields: wrong types, NaN/Infinity as strings, huge numbers, deep
nesting, unknown models and providers. Every answer is either a completion that matches
OpenRouter's `ChatResult`, or an OpenAI-style error whose `code` is the HTTP status. The one
5xx allowed is the documented 503 `no_endpoint` (constraints no endpoint meets).
"""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.openrouter_schema import errors as schema_errors

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash"]
HOSTILE_TEXT = ["NaN", "Infinity", "-Infinity", "sNaN", "1e308", "1e-400", "", "\x00", "ℵ",
                "9" * 40, "$5", "null"]

scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(HOSTILE_TEXT), st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=8,
)


@st.composite
def deep(draw) -> object:
    value: object = draw(scalars)
    for _ in range(draw(st.integers(min_value=1, max_value=400))):
        value = [value] if draw(st.booleans()) else {"k": value}
    return value


weird = st.one_of(json_values, json_values, json_values, deep())

messages = st.lists(
    st.fixed_dictionaries({
        "role": st.sampled_from(["user", "system", "assistant", "developer"]),
        "content": st.text(min_size=1, max_size=40),
    }),
    min_size=1, max_size=3,
).filter(lambda ms: ms[0]["role"] != "assistant" or len(ms) > 1)
provider = st.fixed_dictionaries({}, optional={
    "order": st.lists(st.sampled_from(["sandbox-openai", "sandbox-openai-b"])),
    "only": st.lists(st.sampled_from(["sandbox-openai", "nobody"])),
    "sort": st.sampled_from(["price", "throughput", "latency"]),
    "max_price": st.dictionaries(st.sampled_from(["prompt", "completion", "request"]),
                                 st.one_of(st.decimals(0, 100, places=3).map(str),
                                           st.sampled_from(HOSTILE_TEXT))),
    "allow_fallbacks": st.booleans(),
    "require_parameters": st.booleans(),
    "data_collection": st.sampled_from(["allow", "deny"]),
})
function = st.fixed_dictionaries({"name": st.sampled_from(["f", "get_weather"]),
                                  "parameters": st.just({"type": "object"})})
# Each field's valid values (OpenRouter's request schema); `weird` stands in for any of them.
VALID = {
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "max_tokens": st.integers(1, 64),
    "max_completion_tokens": st.integers(1, 64),
    "seed": st.integers(-(2**63), 2**63 - 1),
    "stop": st.lists(st.text(max_size=5), max_size=4),
    "tools": st.lists(st.fixed_dictionaries({"type": st.just("function"), "function": function}),
                      max_size=2),
    "tool_choice": st.one_of(st.sampled_from(["none", "auto", "required"]),
                             st.fixed_dictionaries({"type": st.just("function"),
                                                    "function": st.one_of(function, weird)})),
    "response_format": st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object"])}),
    "max_cost": st.one_of(st.decimals(0, 10, places=4).map(float),
                          st.sampled_from([1e308, 2**63, -1, 1e-12])),
    "provider": provider,
    "models": st.lists(st.sampled_from(MODELS), max_size=2),
    "reasoning": st.fixed_dictionaries({}, optional={
        "effort": st.sampled_from(["low", "high", "none"]), "max_tokens": st.integers(0, 100)}),
    "usage": st.just({"include": True}),
    "logit_bias": st.dictionaries(st.integers(0, 50_000).map(str), st.integers(-100, 100),
                                  max_size=2),
    "metadata": json_values,
}
valid_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from([*MODELS, "openai/gpt-4o-mini:floor"]), "messages": messages},
    optional=VALID,
)


@st.composite
def one_bad_field(draw) -> dict:
    body = draw(valid_bodies)
    name = draw(st.sampled_from(["model", "messages", "frobnicate", *VALID]))
    if name == "messages" and draw(st.booleans()):
        body["messages"] = [{**body["messages"][0], draw(st.sampled_from(["role", "content"])):
                             draw(weird)}]
    else:
        body[name] = draw(weird)
    return body


chaos = st.dictionaries(st.sampled_from(["model", "messages", *VALID]), weird, max_size=6)
bodies = st.one_of(valid_bodies, valid_bodies, one_bad_field(), one_bad_field(), chaos)


def _check(response: httpx.Response, body: dict) -> None:
    context = (response.status_code, response.text[:500], json.dumps(body)[:800])
    payload = response.json()
    if response.status_code == 200:
        assert schema_errors(payload, "ChatResult") == [], context
        return
    error = payload["error"]
    assert error["code"] == response.status_code, context
    assert isinstance(error["message"], str) and error["message"], context
    assert isinstance(error["type"], str) and isinstance(error["metadata"], dict), context
    assert 400 <= response.status_code < 500 or (
        response.status_code == 503 and error["metadata"]["reason"] == "no_endpoint"), context


@pytest.fixture
def client(sandbox_catalog, funded_key, start_gateway, sandbox):
    unlimited = str(10**12)
    gateway = start_gateway(GATEWAY_KEY_RPM=unlimited, GATEWAY_KEY_TPM=unlimited,
                            GATEWAY_ORG_RPM=unlimited, GATEWAY_ORG_TPM=unlimited)
    with httpx.Client(base_url=gateway.url, timeout=60,
                      headers={"Authorization": f"Bearer {funded_key.plaintext}"}) as client:
        yield client


def test_chat_completions_never_answer_5xx(client):
    @settings(max_examples=80, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def run(body):
        body.pop("stream", None)  # JSON answers only: every 200 is checked against ChatResult
        response = client.post("/v1/chat/completions", content=json.dumps(body),
                               headers={"content-type": "application/json"})
        _check(response, body)

    run()
