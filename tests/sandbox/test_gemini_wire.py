"""Gemini generateContent over raw HTTP: JSON, SSE and JSON-array streams, documented fields."""

import json

import httpx
import jsonschema

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS, reasoning_tokens_for, reply_text
from routing.sandbox.tokens import count_text

SLUG = "sandbox-gemini"
MODEL = "gemini-2.5-flash"
FUNCTION = {
    "name": "set_alarm",
    "description": "Set an alarm",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "hour": {"type": "INTEGER", "minimum": 0, "maximum": 23},
            "label": {"type": "STRING", "nullable": True},
            "days": {"type": "ARRAY", "items": {"type": "STRING",
                                                "enum": ["mon", "tue", "wed"]}},
        },
        "required": ["hour", "days"],
    },
}


def url(sandbox, method, model=MODEL):
    return f"{sandbox.gemini_base(SLUG)}/models/{model}:{method}"


def ask(text, **extra):
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def post(sandbox, body, method="generateContent"):
    response = httpx.post(url(sandbox, method), json=body,
                          headers={"x-goog-api-key": "gk-test"}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_generate_content_fields_and_usage(sandbox):
    body = ask("Explain sandboxes", systemInstruction={"parts": [{"text": "Be terse."}]})
    data = post(sandbox, body)
    [candidate] = data["candidates"]
    assert candidate["content"]["role"] == "model"
    assert candidate["content"]["parts"] == [{"text": reply_text("Explain sandboxes")}]
    assert candidate["finishReason"] == "STOP"
    prompt = count_text("Be terse.") + count_text("Explain sandboxes")
    assert data["usageMetadata"] == {"promptTokenCount": prompt,
                                     "candidatesTokenCount": DEFAULT_REPLY_TOKENS,
                                     "totalTokenCount": prompt + DEFAULT_REPLY_TOKENS}
    assert data["modelVersion"] == MODEL


def test_max_output_tokens(sandbox):
    data = post(sandbox, ask("hello", generationConfig={"maxOutputTokens": 4}))
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["usageMetadata"]["candidatesTokenCount"] == 4


def test_sse_stream_concatenates_to_the_answer(sandbox):
    text = "stream gemini sandbox:tokens=25"
    with httpx.stream("POST", url(sandbox, "streamGenerateContent") + "?alt=sse",
                      json=ask(text), timeout=5) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = [json.loads(line[6:]) for line in response.iter_lines()
                  if line.startswith("data: ")]
    assert len(chunks) > 1
    joined = "".join(p.get("text", "") for c in chunks
                     for p in c["candidates"][0]["content"]["parts"])
    assert joined == reply_text(text)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 25
    assert all("usageMetadata" not in c for c in chunks[:-1])


def test_stream_without_sse_is_a_json_array(sandbox):
    response = httpx.post(url(sandbox, "streamGenerateContent"), json=ask("array"), timeout=5)
    chunks = response.json()
    assert isinstance(chunks, list) and len(chunks) > 1
    assert chunks[-1]["usageMetadata"]["totalTokenCount"] == 1 + DEFAULT_REPLY_TOKENS


def test_function_call_args_satisfy_schema(sandbox):
    data = post(sandbox, ask("wake me", tools=[{"functionDeclarations": [FUNCTION]}]))
    [part] = data["candidates"][0]["content"]["parts"]
    call = part["functionCall"]
    assert call["name"] == "set_alarm"
    lowered = json.loads(json.dumps(FUNCTION["parameters"]).replace('"OBJECT"', '"object"')
                         .replace('"INTEGER"', '"integer"').replace('"STRING"', '"string"')
                         .replace('"ARRAY"', '"array"'))
    jsonschema.validate(call["args"], lowered)


def test_function_calling_mode_none_answers_text(sandbox):
    body = ask("no tools", tools=[{"functionDeclarations": [FUNCTION]}],
               toolConfig={"functionCallingConfig": {"mode": "NONE"}})
    assert post(sandbox, body)["candidates"][0]["content"]["parts"][0]["text"]


def test_response_schema_answer(sandbox):
    schema = {"type": "object", "properties": {"title": {"type": "string"},
                                               "year": {"type": "integer", "minimum": 1900}},
              "required": ["title", "year"]}
    config = {"responseMimeType": "application/json", "responseSchema": schema}
    data = post(sandbox, ask("a film", generationConfig=config))
    jsonschema.validate(json.loads(data["candidates"][0]["content"]["parts"][0]["text"]), schema)


def test_thinking_reports_thoughts_and_can_show_them(sandbox):
    config = {"thinkingConfig": {"thinkingBudget": 50, "includeThoughts": True}}
    data = post(sandbox, ask("think", generationConfig=config))
    thought, answer = data["candidates"][0]["content"]["parts"]
    assert thought["thought"] is True
    assert count_text(thought["text"]) == reasoning_tokens_for(budget=50) == 50
    usage = data["usageMetadata"]
    assert usage["thoughtsTokenCount"] == 50
    assert usage["totalTokenCount"] == 1 + DEFAULT_REPLY_TOKENS + 50
    assert "thought" not in answer


def test_repeated_prefix_reports_cached_content_tokens(sandbox):
    history = [{"role": "user", "parts": [{"text": "Background: " + "facts and figures " * 30}]},
               {"role": "model", "parts": [{"text": "Noted."}]}]
    first = post(sandbox, {"contents": [*history, {"role": "user", "parts": [{"text": "q1"}]}]})
    assert "cachedContentTokenCount" not in first["usageMetadata"]
    second = post(sandbox, {"contents": [*history, {"role": "user", "parts": [{"text": "q2"}]}]})
    assert second["usageMetadata"]["cachedContentTokenCount"] == 2 + 90 + 2


def test_unknown_method_and_bad_body_use_gemini_error_shape(sandbox):
    response = httpx.post(url(sandbox, "countTokens"), json=ask("x"))
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    response = httpx.post(url(sandbox, "generateContent"), json={"contents": []})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": 400, "message": "contents must not be empty",
                                        "status": "INVALID_ARGUMENT"}
