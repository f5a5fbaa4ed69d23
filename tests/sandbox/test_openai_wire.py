"""The official openai SDK, pointed straight at the sandbox, parses every kind of answer."""

import asyncio
import json

import jsonschema
import openai

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS, EFFORT_TOKENS, reply_text
from routing.sandbox.tokens import canonical_json, count_text

SLUG = "sandbox-openai"
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
        },
    },
}


def client(sandbox, **kwargs):
    return openai.OpenAI(base_url=sandbox.openai_base(SLUG), api_key="sk-test", **kwargs)


def test_sync_completion_has_predictable_text_and_usage(sandbox):
    prompt = "Hello there, sandbox! How are you?"
    result = client(sandbox).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}],
    )
    choice = result.choices[0]
    assert choice.message.content == reply_text(prompt)
    assert choice.message.content.startswith("Sandbox reply to: Hello there, sandbox! How are you")
    assert choice.finish_reason == "stop"
    assert result.model == "gpt-4o-mini"
    assert result.usage.prompt_tokens == count_text("Be brief.") + count_text(prompt) == 12
    assert result.usage.completion_tokens == DEFAULT_REPLY_TOKENS
    assert result.usage.total_tokens == 12 + DEFAULT_REPLY_TOKENS


def test_max_tokens_cuts_with_finish_length(sandbox):
    result = client(sandbox).chat.completions.create(
        model="m", max_tokens=5, messages=[{"role": "user", "content": "tell me a story"}]
    )
    assert result.choices[0].finish_reason == "length"
    assert result.choices[0].message.content == "Sandbox reply to: tell"
    assert result.usage.completion_tokens == 5


def test_async_client(sandbox):
    async def run():
        async with openai.AsyncOpenAI(base_url=sandbox.openai_base(SLUG), api_key="k") as api:
            return await asyncio.gather(*[
                api.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"number {i}"}]
                )
                for i in range(5)
            ])

    results = asyncio.run(run())
    assert [r.choices[0].message.content for r in results] == [
        reply_text(f"number {i}") for i in range(5)
    ]


def test_stream_with_usage_chunk_then_done(sandbox):
    prompt = "stream this please sandbox:tokens=40"
    chunks = list(client(sandbox).chat.completions.create(
        model="m", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt}],
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply_text(prompt)
    assert count_text(text) == 40
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens == 40
    assert last.usage.prompt_tokens == count_text(prompt)
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage(sandbox):
    with httpx_stream(sandbox, {"model": "m", "stream": True,
                                "messages": [{"role": "user", "content": "hi"}]}) as lines:
        events = [line for line in lines if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert all("usage" not in json.loads(e[6:]) for e in events[:-1])


def httpx_stream(sandbox, body):
    import contextlib

    import httpx

    @contextlib.contextmanager
    def run():
        url = sandbox.openai_base(SLUG) + "/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=5) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            yield list(response.iter_lines())

    return run()


def test_tool_call_arguments_satisfy_schema(sandbox):
    result = client(sandbox).chat.completions.create(
        model="m", tools=[TOOL], messages=[{"role": "user", "content": "weather in Paris?"}]
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, TOOL["function"]["parameters"])
    assert result.usage.completion_tokens == count_text("get_weather") + count_text(
        call.function.arguments
    )
    spec = {k: TOOL["function"][k] for k in ("name", "description", "parameters")}
    assert result.usage.prompt_tokens == count_text(canonical_json(spec)) + count_text(
        "weather in Paris?"
    )


def test_streamed_tool_call_arrives_in_argument_deltas(sandbox):
    stream = client(sandbox).chat.completions.create(
        model="m", tools=[TOOL], stream=True, messages=[{"role": "user", "content": "go"}]
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    calls = [d.tool_calls[0] for d in deltas if d.tool_calls]
    assert calls[0].id.startswith("call_") and calls[0].function.name == "get_weather"
    pieces = [c.function.arguments for c in calls if c.function.arguments]
    assert len(pieces) > 2
    jsonschema.validate(json.loads("".join(pieces)), TOOL["function"]["parameters"])


def test_tool_choice_none_answers_text(sandbox):
    result = client(sandbox).chat.completions.create(
        model="m", tools=[TOOL], tool_choice="none",
        messages=[{"role": "user", "content": "just talk"}],
    )
    assert result.choices[0].message.tool_calls is None
    assert result.choices[0].message.content == reply_text("just talk")


def test_json_schema_response_matches_schema(sandbox):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "address": {"$ref": "#/$defs/address"},
            "score": {"type": "number", "minimum": 3.5},
        },
        "required": ["name", "tags", "address", "score"],
        "additionalProperties": False,
        "$defs": {"address": {"type": "object", "properties": {"zip": {"type": "string"}},
                              "required": ["zip"], "additionalProperties": False}},
    }
    result = client(sandbox).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a person"}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": schema, "strict": True}},
    )
    jsonschema.validate(json.loads(result.choices[0].message.content), schema)


def test_json_object_mode_answers_an_object(sandbox):
    result = client(sandbox).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "json please"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(result.choices[0].message.content), dict)


def test_reasoning_effort_reports_reasoning_tokens(sandbox):
    result = client(sandbox).chat.completions.create(
        model="o4-mini", reasoning_effort="low", messages=[{"role": "user", "content": "think"}]
    )
    details = result.usage.completion_tokens_details
    assert details.reasoning_tokens == EFFORT_TOKENS["low"]
    assert result.usage.completion_tokens == DEFAULT_REPLY_TOKENS + EFFORT_TOKENS["low"]


def test_repeated_long_prefix_reports_cached_tokens(sandbox):
    system = "You are a careful assistant. " * 20
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "first"}]
    api = client(sandbox)
    first = api.chat.completions.create(model="m", messages=messages)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    messages[1]["content"] = "second question"
    second = api.chat.completions.create(model="m", messages=messages)
    assert second.usage.prompt_tokens_details.cached_tokens == count_text(system) == 120
    assert second.usage.prompt_tokens == 120 + count_text("second question")


def test_models_list(sandbox):
    models = client(sandbox).models.list()
    assert "gpt-4o-mini" in [m.id for m in models.data]


def test_bad_request_is_openai_error_shape(sandbox):
    api = client(sandbox, max_retries=0)
    try:
        api.chat.completions.create(model="m", messages=[])
    except openai.BadRequestError as exc:
        assert exc.body["type"] == "invalid_request_error"
        assert exc.body["param"] == "messages"
    else:
        raise AssertionError("an empty messages list must be rejected")


def test_requests_are_recorded_without_secrets(sandbox):
    client(sandbox).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "record me"}]
    )
    [entry] = sandbox.control.requests(SLUG)
    assert entry["method"] == "POST"
    assert entry["path"] == f"/{SLUG}/v1/chat/completions"
    assert entry["body"]["messages"][0]["content"] == "record me"
    assert "authorization" not in {k.lower() for k in entry["headers"]}
    assert "sk-test" not in json.dumps(entry)


def test_prompt_usage_matches_the_shared_counting_rule(sandbox):
    from routing.sandbox.tokens import MEDIA_TOKENS, count_chat_prompt

    messages = [
        {"role": "system", "content": "Look closely."},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"},
        {"role": "user", "content": "thanks"},
    ]
    result = client(sandbox).chat.completions.create(
        model="m", messages=messages, tools=[TOOL], tool_choice="none")
    expected = count_chat_prompt(messages, [TOOL])
    assert result.usage.prompt_tokens == expected
    by_hand = (count_text("Look closely.") + count_text("What is in this picture?")
               + MEDIA_TOKENS + count_text("get_weather") + count_text('{"city":"Paris"}')
               + count_text("sunny, 21 C") + count_text("thanks"))
    spec = {k: TOOL["function"][k] for k in ("name", "description", "parameters")}
    assert expected == by_hand + count_text(canonical_json(spec))
