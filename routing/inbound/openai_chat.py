"""Parse and validate a Chat Completions body into the canonical `ChatRequest`.

A known field of the wrong type or range is a 400 naming the field (ARCHITECTURE.md, the
gateway); unknown fields are ignored, unless `provider.require_parameters` is set, when they
count as parameters the endpoint must support (so they exclude endpoints instead of being
dropped). Validators and the prompt-size bound are shared with /v1/messages (validators.py,
prompt_size.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.money_input import InputError, parse_usd_nanos
from routing.inbound.prompt_size import measure_prompt
from routing.inbound.validators import (
    MAX_TOKENS_CEILING,
    check_messages,
    load_json_object,
    message_list,
    model_id,
    stream_flag,
)

# The shared validators keep the private names this parser has always called them by.
from routing.inbound.validators import bad as _bad
from routing.inbound.validators import integer as _integer
from routing.inbound.validators import number as _number
from routing.inbound.validators import of_type as _of_type
from routing.inbound.validators import str_list as _str_list
from routing.types import ChatRequest, ProviderPrefs

# Bounds on money fields: a request's `max_cost` in USD, and `provider.max_price` in USD per
# million tokens (or per request/image); both far above any real price, far below int64 nanos.
MAX_COST_USD = 1_000_000
MAX_PRICE_USD = 1_000_000


def _check_stop(value: Any) -> None:
    if value is None or isinstance(value, str):
        return
    if isinstance(value, list) and len(value) <= 4 and all(isinstance(s, str) for s in value):
        return
    raise _bad("stop", "a string or a list of up to 4 strings")


def _check_tools(value: Any) -> None:
    if not isinstance(value, list):
        raise _bad("tools", "a list of tools")
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise _bad(f"tools[{i}]", "an object with type 'function'")
        function = tool.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _bad(f"tools[{i}].function.name", "a string")
        if "parameters" in function and not isinstance(function["parameters"], dict):
            raise _bad(f"tools[{i}].function.parameters", "a JSON schema object")


def _check_tool_choice(value: Any) -> None:
    if value in ("none", "auto", "required"):
        return
    if isinstance(value, dict) and value.get("type") == "function":
        function = value.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return
    raise _bad("tool_choice", "'none', 'auto', 'required' or a function choice")


def _check_response_format(value: Any) -> None:
    if not isinstance(value, dict) or value.get("type") not in (
            "text", "json_object", "json_schema"):
        raise _bad("response_format", "an object with type text, json_object or json_schema")
    if value["type"] == "json_schema":
        schema = value.get("json_schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("name", ""), str) or (
                "schema" in schema and not isinstance(schema["schema"], dict)):
            raise _bad("response_format.json_schema", "an object with a name and a schema")


# field -> validator(body) for the OpenAI parameters we forward (as `params`).
_PARAM_CHECKS: dict[str, Callable[[dict[str, Any]], object]] = {
    "temperature": lambda b: _number(b, "temperature", 0, 2),
    "top_p": lambda b: _number(b, "top_p", 0, 1),
    "frequency_penalty": lambda b: _number(b, "frequency_penalty", -2, 2),
    "presence_penalty": lambda b: _number(b, "presence_penalty", -2, 2),
    "repetition_penalty": lambda b: _number(b, "repetition_penalty", 0, 2),
    "min_p": lambda b: _number(b, "min_p", 0, 1),
    "top_a": lambda b: _number(b, "top_a", 0, 1),
    "top_k": lambda b: _integer(b, "top_k", 0, 1_000_000),
    "seed": lambda b: _integer(b, "seed", -(2**63), 2**63 - 1),
    "n": lambda b: _integer(b, "n", 1, 1),
    "top_logprobs": lambda b: _integer(b, "top_logprobs", 0, 20),
    "logprobs": lambda b: _of_type(b, "logprobs", bool, "a boolean"),
    "parallel_tool_calls": lambda b: _of_type(b, "parallel_tool_calls", bool, "a boolean"),
    "user": lambda b: _of_type(b, "user", str, "a string"),
    "logit_bias": lambda b: _of_type(b, "logit_bias", dict, "an object"),
    "stop": lambda b: _check_stop(b["stop"]),
    "tools": lambda b: _check_tools(b["tools"]),
    "tool_choice": lambda b: _check_tool_choice(b["tool_choice"]),
    "response_format": lambda b: _check_response_format(b["response_format"]),
    "prediction": lambda b: _of_type(b, "prediction", dict, "an object"),
}
# Fields we understand that are not forwarded as `params` (handled explicitly below), or that
# mean nothing to us and are accepted silently (OpenRouter's accepted-but-unsupported ones).
_OWN_FIELDS = frozenset({
    "model", "messages", "models", "stream", "stream_options", "max_tokens",
    "max_completion_tokens", "provider", "reasoning", "reasoning_effort", "transforms",
    "plugins", "usage", "session_id", "max_cost", "route", "include_reasoning", "debug",
    "service_tier", "metadata", "store", "verbose", "modalities", "web_search_options",
})


def parse_provider(value: Any) -> ProviderPrefs:
    if value is None:
        return ProviderPrefs()
    if not isinstance(value, dict):
        raise _bad("provider", "an object")
    prefs = ProviderPrefs()
    for name in ("order", "only", "ignore", "quantizations"):
        if value.get(name) is not None:
            setattr(prefs, name, _str_list(value[name], f"provider.{name}"))
    for name in ("allow_fallbacks", "require_parameters", "zdr"):
        if value.get(name) is not None:
            setattr(prefs, name, _of_type(value, name, bool, "a boolean"))
    if value.get("data_collection") is not None:
        if value["data_collection"] not in ("allow", "deny"):
            raise _bad("provider.data_collection", "'allow' or 'deny'")
        prefs.data_collection = value["data_collection"]
    sort = value.get("sort")
    if isinstance(sort, dict):
        sort = sort.get("by")
    if sort is not None:
        if sort not in ("price", "throughput", "latency"):
            raise _bad("provider.sort", "'price', 'throughput' or 'latency'")
        prefs.sort = sort
    max_price = value.get("max_price")
    if max_price is not None:
        if not isinstance(max_price, dict):
            raise _bad("provider.max_price", "an object of USD prices")
        # Integer nanos straight from the one money parser (half up): policy compares ints.
        prefs.max_price = {
            key: _usd(price, f"provider.max_price.{key}", MAX_PRICE_USD)
            for key, price in max_price.items()
        }
    prefs.preferred_max_latency_s = _percentile(value, "preferred_max_latency")
    prefs.preferred_min_throughput = _percentile(value, "preferred_min_throughput")
    return prefs


def _usd(value: Any, field: str, max_usd: int) -> int:
    """Dollars as nanos (half up), or a 400 naming the field: finite, 0..max_usd, not a bool."""
    try:
        return parse_usd_nanos(value, max_usd=max_usd, typed=False)
    except InputError:
        raise _bad(field, f"a number of USD between 0 and {max_usd:,}") from None


def _percentile(value: dict[str, Any], name: str) -> float | None:
    """A number means p50; an object of percentiles uses its p50 (the figure we keep)."""
    raw = value.get(name)
    if raw is None:
        return None
    if isinstance(raw, dict):
        raw = raw.get("p50")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise _bad(f"provider.{name}", "a non-negative number or {p50: number}")
    return float(raw)


def _reasoning(body: dict[str, Any]) -> dict[str, Any] | None:
    reasoning = body.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, dict):
            raise _bad("reasoning", "an object")
        effort = reasoning.get("effort")
        if effort is not None and effort not in ("minimal", "low", "medium", "high", "none"):
            raise _bad("reasoning.effort", "'minimal', 'low', 'medium', 'high' or 'none'")
        if reasoning.get("max_tokens") is not None:
            _integer(reasoning, "max_tokens", 0, MAX_TOKENS_CEILING)
        if effort == "none":
            return None
        return reasoning
    effort = body.get("reasoning_effort")
    if effort is None:
        return None
    if effort not in ("minimal", "low", "medium", "high", "none"):
        raise _bad("reasoning_effort", "'minimal', 'low', 'medium', 'high' or 'none'")
    return None if effort == "none" else {"effort": effort}


def parse_chat_body(raw: bytes) -> ChatRequest:
    """The request as a `ChatRequest`, or InvalidRequest (400) naming the offending field."""
    return chat_request_from(load_json_object(raw))


def chat_request_from(body: dict[str, Any]) -> ChatRequest:
    models = _str_list(body["models"], "models") if body.get("models") is not None else []
    model = body.get("model")
    model = model_id(models[0] if model is None and models else model)
    messages = message_list(body.get("messages"))
    check_messages(messages)
    stream = stream_flag(body)
    max_tokens = None
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            max_tokens = _integer(body, name, 1, MAX_TOKENS_CEILING)
            break
    provider = parse_provider(body.get("provider"))
    # OpenRouter's shortcuts: `:nitro` sorts by throughput, `:floor` by price.
    for suffix, sort in ((":nitro", "throughput"), (":floor", "price")):
        if model.endswith(suffix):
            model = model[:-len(suffix)]
            provider.sort = provider.sort or sort
    params: dict[str, Any] = {}
    used = set()
    for name, value in body.items():
        check = _PARAM_CHECKS.get(name)
        if check is not None:
            if value is None:
                continue
            check(body)
            params[name] = value
            used.add(name)
        elif name not in _OWN_FIELDS and provider.require_parameters:
            used.add(name)  # unknown, yet required: only an endpoint that takes it qualifies
    prompt_bytes, modalities = measure_prompt(messages, params)
    if max_tokens is not None:
        used.add("max_tokens")
    reasoning = _reasoning(body)
    if reasoning is not None:
        used.add("reasoning")
    max_cost_nanos = None
    if body.get("max_cost") is not None:
        if not isinstance(body["max_cost"], int | float):
            raise _bad("max_cost", f"a number of USD between 0 and {MAX_COST_USD:,}")
        max_cost_nanos = _usd(body["max_cost"], "max_cost", MAX_COST_USD)
    for name in ("transforms", "plugins"):
        if body.get(name) is not None and not isinstance(body[name], list):
            raise _bad(name, "a list")
    for name in ("usage", "stream_options"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise _bad(name, "an object")
    if body.get("session_id") is not None and not isinstance(body["session_id"], str):
        raise _bad("session_id", "a string")
    return ChatRequest(
        model=model, messages=messages, models=models, stream=stream, max_tokens=max_tokens,
        params=params, reasoning=reasoning, provider=provider, max_cost_nanos=max_cost_nanos,
        used_parameters=frozenset(used), input_modalities=modalities,
        prompt_upper_bytes=prompt_bytes,
    )
