"""Gemini generateContent wire format: request parsing, JSON, SSE and JSON-array streams.

``usageMetadata`` carries ``cachedContentTokenCount`` and ``thoughtsTokenCount`` only when
non-zero, as the real API does.
"""

from typing import Any

from aiohttp import web

from routing.sandbox import tokens
from routing.sandbox.common import Meta, WireError, dumps, positive_int, require, sse, tool_segment
from routing.sandbox.engine import Answer, Ask, Segment, Tool, reasoning_tokens_for

ID_PREFIX = "sbx-"
CALL_PREFIX = "call-"
_FINISH = {"stop": "STOP", "stop_sequence": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 409: "ABORTED",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
METHODS = ("generateContent", "streamGenerateContent")


def split_target(request: web.Request) -> tuple[str, str]:
    model, _, method = request.match_info["target"].partition(":")
    if not model or method not in METHODS:
        raise WireError(404, f"method {method or '(none)'} is not found for this model")
    return model, method


def _parts(parts: object) -> Segment:
    if not isinstance(parts, list):
        raise WireError(400, "contents[].parts must be a list", "contents")
    texts: list[str] = []
    media = 0
    for part in parts:
        require(isinstance(part, dict), "contents[].parts[] must be objects", "contents")
        if "text" in part:
            texts.append(str(part["text"]))
        elif "functionCall" in part:
            call = part["functionCall"] or {}
            texts += [str(call.get("name", "")), tokens.canonical_json(call.get("args", {}))]
        elif "functionResponse" in part:
            reply = part["functionResponse"] or {}
            texts += [str(reply.get("name", "")), tokens.canonical_json(reply.get("response", {}))]
        else:
            media += 1
    return Segment(texts, media)


def _thinking(config: dict[str, Any]) -> tuple[int, bool]:
    thinking = config.get("thinkingConfig")
    if not isinstance(thinking, dict):
        return 0, False
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget == -1 or (budget is None and level is None):
        amount = reasoning_tokens_for("medium")
    elif budget is not None:
        amount = reasoning_tokens_for(budget=budget)
    else:
        amount = reasoning_tokens_for(str(level).lower())
    return amount, thinking.get("includeThoughts") is True and amount > 0


def parse(body: Any, request: web.Request, match: dict[str, str]) -> Ask:
    require(isinstance(body, dict), "the request body must be a JSON object")
    contents = body.get("contents")
    require(isinstance(contents, list) and contents != [], "contents must not be empty",
            "contents")
    segments: list[Segment] = []
    tools: list[Tool] = []
    for group in body.get("tools") or []:
        for decl in (group or {}).get("functionDeclarations") or []:
            require(isinstance(decl, dict) and isinstance(decl.get("name"), str),
                    "functionDeclarations[].name is required", "tools")
            schema = decl.get("parametersJsonSchema") or decl.get("parameters") or {}
            tools.append(Tool(decl["name"], schema))
            segments.append(tool_segment(decl["name"], decl.get("description"), schema or None))
    system = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(system, dict):
        segments.append(_parts(system.get("parts") or []))
    last_user = ""
    for content in contents:
        require(isinstance(content, dict), "contents[] must be objects", "contents")
        segment = _parts(content.get("parts") or [])
        segments.append(segment)
        if content.get("role", "user") == "user":
            last_user = " ".join(str(p["text"]) for p in content["parts"] if "text" in p)
    calling = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {})
    tool_choice = None
    if calling.get("mode") == "NONE":
        tool_choice = "none"
    elif calling.get("allowedFunctionNames"):
        tool_choice = calling["allowedFunctionNames"][0]
    config = body.get("generationConfig") or {}
    require(isinstance(config, dict), "generationConfig must be an object", "generationConfig")
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    reasoning, show_thoughts = _thinking(config)
    return Ask(
        model=match["model"], segments=segments, last_user_text=last_user,
        max_tokens=positive_int(config.get("maxOutputTokens"), "maxOutputTokens"),
        tools=tools, tool_choice=tool_choice, json_schema=schema,
        json_mode=config.get("responseMimeType") == "application/json",
        reasoning_tokens=reasoning, stop=list(config.get("stopSequences") or []),
        stream=match["method"] == "streamGenerateContent",
        sse=request.query.get("alt") == "sse", show_thoughts=show_thoughts,
    )


def usage(answer: Answer) -> dict[str, Any]:
    out = {
        "promptTokenCount": answer.prompt_tokens,
        "candidatesTokenCount": answer.completion_tokens,
        "totalTokenCount": answer.prompt_tokens + answer.completion_tokens
        + answer.reasoning_tokens,
    }
    if answer.cache_read_tokens:
        out["cachedContentTokenCount"] = answer.cache_read_tokens
    if answer.reasoning_tokens:
        out["thoughtsTokenCount"] = answer.reasoning_tokens
    return out


def _response(ask: Ask, meta: Meta, parts: list[dict[str, Any]], finish: str | None = None,
              answer: Answer | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": ask.model,
                           "responseId": meta["id"]}
    if answer is not None:
        out["usageMetadata"] = usage(answer)
    return out


def _answer_parts(answer: Answer) -> list[dict[str, Any]]:
    if answer.tool_call:
        call = answer.tool_call
        return [{"functionCall": {"name": call.name, "args": call.args}}]
    return [{"text": answer.text}]


def render(ask: Ask, answer: Answer, meta: Meta) -> dict[str, Any]:
    parts = _answer_parts(answer)
    if ask.show_thoughts:
        parts = [{"text": answer.reasoning, "thought": True}, *parts]
    return _response(ask, meta, parts, _FINISH[answer.finish], answer)


def stream(ask: Ask, answer: Answer, meta: Meta, body: dict[str, Any]) -> list[bytes]:
    chunks: list[dict[str, Any]] = []
    if ask.show_thoughts:
        chunks += [_response(ask, meta, [{"text": p, "thought": True}])
                   for p in tokens.pieces(answer.reasoning, 8)]
    parts: list[list[dict[str, Any]]]
    if answer.tool_call:
        parts = [_answer_parts(answer)]
    else:
        size = max(1, answer.completion_tokens // 256 + 1)
        parts = [[{"text": p}] for p in tokens.pieces(answer.text, size)] or [[{"text": ""}]]
    chunks += [_response(ask, meta, p) for p in parts[:-1]]
    chunks.append(_response(ask, meta, parts[-1], _FINISH[answer.finish], answer))
    if ask.sse:
        return [sse(chunk) for chunk in chunks]
    body_parts = [b"[" + dumps(chunks[0])]
    body_parts += [b",\r\n" + dumps(chunk) for chunk in chunks[1:]]
    body_parts.append(b"]")
    return body_parts


def error(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    code = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": code}}


def malformed(streaming: bool) -> bytes:
    if streaming:
        return b'data: {"candidates": [{"content": {"parts": [{"text": "Sand\n\n'
    return b'{"candidates": [{"content": {"parts": [{"text": "Sandbox'


__all__ = ["ID_PREFIX", "CALL_PREFIX", "WireError", "split_target", "parse", "render", "stream",
           "error", "malformed"]
