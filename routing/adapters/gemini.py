"""Google Gemini generateContent / streamGenerateContent (`?alt=sse`).

OpenAI roles map to `user`/`model` turns of `parts`; tool calls are `functionCall` parts and tool
results `functionResponse` parts (named, so the name is looked up from the call's id); sampling
goes in `generationConfig`, reasoning in `thinkingConfig`.
"""

from __future__ import annotations

from typing import Any

import orjson

from catalog.snapshot import EndpointView
from routing.adapters.base import (
    Adapter,
    ParsedCompletion,
    StreamTranslator,
    UpstreamRequest,
    decode_json,
    dumps,
    in_band_failure,
    param_allowed,
    parse_data_url,
    reasoning_budget,
    text_of,
)
from routing.types import ChatRequest, UpstreamFailure, Usage

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}

GENERATION_PARAMS = {"temperature": "temperature", "top_p": "topP", "top_k": "topK",
                     "seed": "seed", "presence_penalty": "presencePenalty",
                     "frequency_penalty": "frequencyPenalty"}


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"text": part.get("text", "")})
        elif part.get("type") == "image_url":
            image = part.get("image_url") or {}
            url = image.get("url", "") if isinstance(image, dict) else str(image)
            data = parse_data_url(url)
            if data:
                parts.append({"inlineData": {"mimeType": data[0], "data": data[1]}})
            else:
                parts.append({"fileData": {"fileUri": url, "mimeType": "image/*"}})
    return parts


def _arguments(raw: Any) -> dict[str, Any]:
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def messages_to_gemini(messages: list[dict[str, Any]]
                       ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool_call_id -> function name
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_parts(message.get("content")))
            continue
        if role == "tool":
            name = names.get(message.get("tool_call_id", ""), "")
            text = text_of(message.get("content"))
            parts = [{"functionResponse": {"name": name, "response": {"content": text}}}]
            role = "user"
        else:
            parts = _parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                names[call.get("id", "")] = function.get("name", "")
                parts.append({"functionCall": {"name": function.get("name", ""),
                                               "args": _arguments(function.get("arguments"))}})
            role = "model" if role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return ({"parts": system} if system else None), contents


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if choice is None or choice == "auto":
        return None
    if choice == "none":
        mode: dict[str, Any] = {"mode": "NONE"}
    elif choice == "required":
        mode = {"mode": "ANY"}
    elif isinstance(choice, dict):
        mode = {"mode": "ANY",
                "allowedFunctionNames": [(choice.get("function") or {}).get("name", "")]}
    else:
        return None
    return {"functionCallingConfig": mode}


def usage_from_gemini(raw: dict[str, Any]) -> Usage:
    thoughts = int(raw.get("thoughtsTokenCount") or 0)
    return Usage(
        prompt_tokens=int(raw.get("promptTokenCount") or 0),
        completion_tokens=int(raw.get("candidatesTokenCount") or 0) + thoughts,
        cache_read_tokens=int(raw.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )


def _candidate(payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, dict):
        raise UpstreamFailure("malformed", "Provider answer is not an object.", True)
    if "error" in payload:
        err = payload["error"] if isinstance(payload["error"], dict) else {}
        code = err.get("code")
        retryable = not isinstance(code, int) or code in (408, 429) or code >= 500
        raise in_band_failure(payload, retryable)
    candidates = payload.get("candidates") or []
    return candidates[0] if candidates else None


def _split_parts(parts: list[dict[str, Any]], first_call: int, call_prefix: str
                 ) -> tuple[str, str, list[dict[str, Any]]]:
    text: list[str] = []
    thought: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in parts:
        if "functionCall" in part:
            call = part["functionCall"] or {}
            calls.append({"index": first_call + len(calls),
                          "id": f"{call_prefix}_{first_call + len(calls)}",
                          "type": "function",
                          "function": {"name": call.get("name", ""),
                                       "arguments": dumps(call.get("args") or {}).decode()}})
        elif part.get("thought"):
            thought.append(part.get("text", ""))
        elif "text" in part:
            text.append(part["text"])
    return "".join(text), "".join(thought), calls


def _finish(raw: str | None, has_calls: bool) -> str | None:
    if raw is None:
        return None
    if raw == "STOP" and has_calls:
        return "tool_calls"
    return FINISH_REASONS.get(raw, "stop")


class GeminiAdapter(Adapter):
    wire_format = "gemini"

    def build_request(self, endpoint: EndpointView, request: ChatRequest, *, max_tokens: int,
                      api_key: str | None, stream: bool) -> UpstreamRequest:
        system, contents = messages_to_gemini(request.messages)
        params = request.params
        config: dict[str, Any] = {"maxOutputTokens": max_tokens}
        for name, wire_name in GENERATION_PARAMS.items():
            if name in params and param_allowed(endpoint, name):
                config[wire_name] = params[name]
        stop = params.get("stop")
        if stop:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        response_format = params.get("response_format") or {}
        if response_format.get("type") in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
            schema = (response_format.get("json_schema") or {}).get("schema")
            if schema:
                config["responseJsonSchema"] = schema
        budget = reasoning_budget(request.reasoning, max_tokens)
        if budget is not None:
            config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": True}
        body: dict[str, Any] = {"contents": contents, "generationConfig": config}
        if system:
            body["systemInstruction"] = system
        if params.get("tools"):
            body["tools"] = [{"functionDeclarations": [
                {k: v for k, v in (t.get("function") or {}).items()
                 if k in ("name", "description", "parameters")}
                for t in params["tools"]]}]
            tool_config = _tool_config(params.get("tool_choice"))
            if tool_config:
                body["toolConfig"] = tool_config
        base = endpoint.provider.base_url.rstrip("/")
        model = endpoint.upstream_model_id
        url = (f"{base}/v1beta/models/{model}:streamGenerateContent?alt=sse" if stream
               else f"{base}/v1beta/models/{model}:generateContent")
        headers = {"content-type": "application/json"}
        if api_key:
            headers["x-goog-api-key"] = api_key
        return UpstreamRequest(url, headers, dumps(body))

    def parse_response(self, endpoint: EndpointView, data: bytes) -> ParsedCompletion:
        payload = decode_json(data)
        candidate = _candidate(payload)
        if candidate is None:
            raise UpstreamFailure("malformed", "Provider answer has no candidates.", True)
        parts = (candidate.get("content") or {}).get("parts") or []
        text, thought, calls = _split_parts(parts, 0, "call")
        message: dict[str, Any] = {"role": "assistant",
                                   "content": text if text or not calls else None}
        if thought:
            message["reasoning"] = thought
        if calls:
            message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
        finish = _finish(candidate.get("finishReason") or "STOP", bool(calls)) or "stop"
        body = {"id": payload.get("responseId", ""), "object": "chat.completion", "created": 0,
                "model": endpoint.model_slug,
                "system_fingerprint": None,
                "choices": [{"index": 0, "message": message, "finish_reason": finish,
                             "native_finish_reason": candidate.get("finishReason")}]}
        metadata = payload.get("usageMetadata")
        usage = usage_from_gemini(metadata) if isinstance(metadata, dict) else None
        return ParsedCompletion(body, usage, finish)

    def stream_translator(self, endpoint: EndpointView, request: ChatRequest,
                          completion_id: str, created: int) -> StreamTranslator:
        return GeminiStreamTranslator(endpoint, request, completion_id, created)


class GeminiStreamTranslator(StreamTranslator):
    """Each SSE event is a partial GenerateContentResponse; usage metadata is cumulative.

    Gemini has no end marker: the event carrying `finishReason` is the last one.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._calls = 0
        self._started = False

    def feed(self, event: str | None, data: bytes) -> list[dict[str, Any]]:
        payload = decode_json(data)
        candidate = _candidate(payload)
        if payload.get("usageMetadata"):
            self.usage = usage_from_gemini(payload["usageMetadata"])
        chunks = []
        if not self._started:
            self._started = True
            chunks.append(self.chunk({"role": "assistant", "content": ""}))
        if candidate is None:
            return chunks
        parts = (candidate.get("content") or {}).get("parts") or []
        text, thought, calls = _split_parts(parts, self._calls, f"call_{self.completion_id}")
        self._calls += len(calls)
        if thought:
            chunks.append(self.chunk({"reasoning": thought}))
        if text:
            chunks.append(self.chunk({"content": text}))
        if calls:
            chunks.append(self.chunk({"tool_calls": calls}))
        finish = _finish(candidate.get("finishReason"), self._calls > 0)
        if finish:
            self.finish_reason = finish
            self.done = True
            chunks.append(self.chunk({}, finish))
        return chunks
