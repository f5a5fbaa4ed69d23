"""One prompt-size rule for both inbound routes: the same conversation takes the same hold.

The hold's prompt bound is `routing.inbound.prompt_size`'s (the chat route's rule; see
ARCHITECTURE.md, the hot path). Each conversation here is written out twice by hand, once per
wire format, and both parsed requests must measure, and hold, the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.gateway.costs import plan_hold
from routing.inbound.anthropic_messages import parse_messages_request
from routing.inbound.openai_chat import chat_request_from
from routing.inbound.prompt_size import IMAGE_UPPER_BYTES, MESSAGE_OVERHEAD_BYTES
from tests.routing.builders import endpoint, provider

MODEL = "acme/chat"
CANDIDATES = [endpoint(MODEL, provider("cheap"), input_usd_m="0.15", output_usd_m="0.6"),
              endpoint(MODEL, provider("dear"), input_usd_m="3", output_usd_m="15")]


def hold_of(request) -> tuple[int, int]:
    plan = plan_hold(request, CANDIDATES, lambda _endpoint: 550)
    return plan.want_nanos, plan.min_nanos


def both(openai_messages: list, anthropic_messages: list, *, system: Any = None,
         openai_tools: list | None = None, anthropic_tools: list | None = None,
         max_tokens: int = 64):
    chat_body: dict[str, Any] = {"model": MODEL, "max_tokens": max_tokens,
                                 "messages": openai_messages}
    messages_body: dict[str, Any] = {"model": MODEL, "max_tokens": max_tokens,
                                     "messages": anthropic_messages}
    if system is not None:
        messages_body["system"] = system
    if openai_tools:
        chat_body["tools"] = openai_tools
        messages_body["tools"] = anthropic_tools
    return chat_request_from(chat_body), parse_messages_request(messages_body)


def test_an_image_url_prompt_holds_the_same_on_both_routes():
    # Before one rule, /v1/chat/completions counted 3,029 bytes here and /v1/messages 146, so
    # /v1/messages held for a fraction of the image's tokens.
    url = "https://example.com/cat.png"
    chat, messages = both(
        [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                      {"type": "image_url", "image_url": {"url": url}}]}],
        [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                      {"type": "image", "source": {"type": "url", "url": url}}]}])
    expected = MESSAGE_OVERHEAD_BYTES + len(b"What is this?") + IMAGE_UPPER_BYTES
    assert chat.prompt_upper_bytes == expected
    assert messages.prompt_upper_bytes == expected
    assert hold_of(messages) == hold_of(chat)


def test_a_large_base64_image_counts_as_one_image_on_both_routes():
    data = "iVBORw0KGgo" * 20_000
    chat, messages = both(
        [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]}],
        [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": data}}]}])
    assert messages.prompt_upper_bytes == chat.prompt_upper_bytes == (
        MESSAGE_OVERHEAD_BYTES + IMAGE_UPPER_BYTES)


def test_an_image_inside_a_tool_result_is_an_image_input_on_both_routes():
    url = "https://example.com/chart.png"
    chat, messages = both(
        [{"role": "assistant", "content": None, "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "plot", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "t1",
          "content": [{"type": "image_url", "image_url": {"url": url}}]}],
        [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "plot",
                                            "input": {}}]},
         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
             {"type": "image", "source": {"type": "url", "url": url}}]}]}])
    assert messages.input_modalities == chat.input_modalities == frozenset({"text", "image"})
    assert messages.prompt_upper_bytes == chat.prompt_upper_bytes


# A conversation in neither wire format: turns of (kind, ...) items, rendered into both below.
@dataclass
class Conversation:
    system: Any  # None, a string, or a list of texts (Anthropic's text blocks)
    turns: list[tuple[str, Any]]  # (role, a string or a list of items)
    tools: list[tuple[str, str, dict]]  # (name, description, JSON schema)
    max_tokens: int


texts = st.text(max_size=40)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
text_item = st.tuples(st.just("text"), texts, st.booleans())  # (kind, text, cache_control)
image_item = st.one_of(
    st.tuples(st.just("image_url"), texts.map(lambda s: "https://img.example/" + s)),
    st.tuples(st.just("image_b64"), st.sampled_from(["image/png", "image/jpeg"]),
              st.text(alphabet="ABCDEFabcdef0123456789+/", max_size=400)),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), texts)
tool_input = st.dictionaries(ids, json_scalars, max_size=4)
tool_use_item = st.tuples(st.just("tool_use"), ids, ids, tool_input)
tool_result_item = st.tuples(
    st.just("tool_result"), ids,
    st.one_of(st.none(), texts, st.lists(st.one_of(text_item, image_item), max_size=3)))
user_turn = st.tuples(st.just("user"), st.one_of(
    texts, st.lists(st.one_of(text_item, image_item, tool_result_item), min_size=1,
                    max_size=4)))
# Thinking is Anthropic-only and never forwarded, so it adds nothing to the prompt.
assistant_turn = st.tuples(st.just("assistant"), st.one_of(
    texts, st.tuples(st.booleans(), st.lists(st.one_of(text_item, tool_use_item), min_size=1,
                                             max_size=3))))
schemas = st.fixed_dictionaries({"type": st.just("object")}, optional={
    "properties": st.dictionaries(ids, st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer"])}), max_size=3)})
conversations = st.builds(
    Conversation,
    system=st.one_of(st.none(), texts, st.lists(texts, min_size=1, max_size=2)),
    turns=st.lists(st.one_of(user_turn, assistant_turn), min_size=1, max_size=5),
    tools=st.lists(st.tuples(ids, texts, schemas), max_size=2),
    max_tokens=st.integers(1, 200_000),
)


def _openai_part(item: tuple) -> dict:
    if item[0] == "text":
        part: dict[str, Any] = {"type": "text", "text": item[1]}
        if item[2]:
            part["cache_control"] = {"type": "ephemeral"}
        return part
    url = item[1] if item[0] == "image_url" else f"data:{item[1]};base64,{item[2]}"
    return {"type": "image_url", "image_url": {"url": url}}


def _anthropic_block(item: tuple) -> dict:
    if item[0] == "text":
        block: dict[str, Any] = {"type": "text", "text": item[1]}
        if item[2]:
            block["cache_control"] = {"type": "ephemeral"}
        return block
    if item[0] == "image_url":
        return {"type": "image", "source": {"type": "url", "url": item[1]}}
    if item[0] == "image_b64":
        return {"type": "image", "source": {"type": "base64", "media_type": item[1],
                                            "data": item[2]}}
    if item[0] == "tool_use":
        return {"type": "tool_use", "id": item[1], "name": item[2], "input": item[3]}
    content = item[2]
    block = {"type": "tool_result", "tool_use_id": item[1]}
    if content is not None:
        block["content"] = (content if isinstance(content, str)
                            else [_anthropic_block(i) for i in content])
    return block


def as_openai(conversation: Conversation) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    system = conversation.system
    if isinstance(system, str):
        messages.append({"role": "system", "content": system})
    elif system is not None:
        messages.append({"role": "system", "content": [{"type": "text", "text": t}
                                                       for t in system]})
    for role, content in conversation.turns:
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif role == "user":
            parts = []
            for item in content:
                if item[0] == "tool_result":
                    result = item[2]
                    messages.append({"role": "tool", "tool_call_id": item[1], "content": (
                        result or "" if not isinstance(result, list)
                        else [_openai_part(i) for i in result])})
                else:
                    parts.append(_openai_part(item))
            if parts:
                messages.append({"role": "user", "content": parts})
        else:
            items = content[1]
            parts = [_openai_part(i) for i in items if i[0] == "text"]
            calls = [{"id": i[1], "type": "function",
                      "function": {"name": i[2], "arguments": orjson.dumps(i[3]).decode()}}
                     for i in items if i[0] == "tool_use"]
            message: dict[str, Any] = {"role": "assistant", "content": parts or None}
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
    body: dict[str, Any] = {"model": MODEL, "max_tokens": conversation.max_tokens,
                            "messages": messages}
    if conversation.tools:
        body["tools"] = [{"type": "function", "function": {
            "name": name, **({"description": about} if about else {}), "parameters": schema}}
            for name, about, schema in conversation.tools]
    return body


def as_anthropic(conversation: Conversation) -> dict[str, Any]:
    messages = []
    for role, content in conversation.turns:
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif role == "user":
            messages.append({"role": role, "content": [_anthropic_block(i) for i in content]})
        else:
            thinking, items = content
            blocks = [_anthropic_block(i) for i in items]
            if thinking:
                blocks.insert(0, {"type": "thinking", "thinking": "Let me see.",
                                  "signature": "sig"})
            messages.append({"role": role, "content": blocks})
    body: dict[str, Any] = {"model": MODEL, "max_tokens": conversation.max_tokens,
                            "messages": messages}
    system = conversation.system
    if system is not None:
        body["system"] = system if isinstance(system, str) else [
            {"type": "text", "text": t} for t in system]
    if conversation.tools:
        body["tools"] = [{"name": name, **({"description": about} if about else {}),
                          "input_schema": schema} for name, about, schema in conversation.tools]
    return body


@settings(max_examples=300, deadline=None)
@given(conversations)
def test_the_same_conversation_in_both_wire_formats_takes_the_same_hold(conversation):
    chat = chat_request_from(as_openai(conversation))
    messages = parse_messages_request(as_anthropic(conversation))

    assert messages.prompt_upper_bytes == chat.prompt_upper_bytes
    # What selects the candidates agrees too, so both routes price the same endpoints.
    assert (messages.input_modalities, messages.used_parameters, messages.max_tokens) == (
        chat.input_modalities, chat.used_parameters, chat.max_tokens)
    assert hold_of(messages) == hold_of(chat)


@pytest.mark.parametrize("max_tokens", [1, 4_096])
def test_the_hold_grows_with_an_image_on_the_messages_route(max_tokens):
    text_only = parse_messages_request({"model": MODEL, "max_tokens": max_tokens, "messages": [
        {"role": "user", "content": "Describe it."}]})
    with_image = parse_messages_request({"model": MODEL, "max_tokens": max_tokens, "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "Describe it."},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]})
    assert with_image.prompt_upper_bytes - text_only.prompt_upper_bytes == IMAGE_UPPER_BYTES
    assert hold_of(with_image)[0] > hold_of(text_only)[0]
