"""The sandbox's deterministic token counter, shared with the gateway.

One rule, so tests (and the gateway metering a stream that ended without usage) can predict
usage exactly: a token is a run of word characters (``\\w+``) or a run of other non-space
characters (``[^\\w\\s]+``); whitespace is free. Images and other media parts count a fixed
``MEDIA_TOKENS`` each. ``"Hello, world!"`` is 4 tokens: ``Hello``, ``,``, ``world``, ``!``.
"""

import json
import re
from typing import Any

TOKEN_RE = re.compile(r"\w+|[^\w\s]+")
MEDIA_TOKENS = 85


def count_text(text: str) -> int:
    """Tokens in ``text`` under the sandbox rule."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def count_media(parts: int) -> int:
    """Tokens for ``parts`` image/audio/document parts."""
    return parts * MEDIA_TOKENS


def canonical_json(value: object) -> str:
    """The JSON text whose tokens are counted for tool definitions, arguments and results."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def truncate(text: str, tokens: int) -> str:
    """The prefix of ``text`` holding exactly its first ``tokens`` tokens (no trailing space)."""
    if tokens <= 0:
        return ""
    for index, match in enumerate(TOKEN_RE.finditer(text), start=1):
        if index == tokens:
            return text[: match.end()]
    return text


def pieces(text: str, tokens_per_piece: int = 1) -> list[str]:
    """Split ``text`` into stream deltas of ``tokens_per_piece`` tokens, each carrying the
    whitespace before it, so the deltas concatenate back to ``text`` and count the same."""
    out: list[str] = []
    start = 0
    matches = list(TOKEN_RE.finditer(text))
    for index in range(tokens_per_piece - 1, len(matches), tokens_per_piece):
        end = matches[index].end()
        out.append(text[start:end])
        start = end
    if start < len(text):
        out.append(text[start:])
    return out


def tool_definition_text(name: str, description: object = None,
                         parameters: object = None) -> str:
    """The counted text of one tool definition (identical in all three wire formats)."""
    spec: dict[str, object] = {"name": name}
    if description:
        spec["description"] = description
    if parameters:
        spec["parameters"] = parameters
    return canonical_json(spec)


def chat_prompt_segments(messages: list[Any], tools: list[Any] | None = None
                         ) -> list[tuple[list[str], int]]:
    """OpenAI-shaped ``messages``/``tools`` as counted pieces: ``(texts, media_parts)`` per tool
    definition, then per message. Counted: text and refusal parts, tool-call names and argument
    strings, tool-result contents; every other content part (image, audio, file) is one media
    part. Roles, names and ids are free."""
    out: list[tuple[list[str], int]] = []
    for tool in tools or []:
        function = tool.get("function") or {}
        out.append(([tool_definition_text(str(function.get("name", "")),
                                          function.get("description"),
                                          function.get("parameters"))], 0))
    for message in messages:
        texts, media = message_texts(message.get("content"))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            texts += [str(function.get("name", "")), str(function.get("arguments", ""))]
        out.append((texts, media))
    return out


def message_texts(content: str | list[Any] | None) -> tuple[list[str], int]:
    """``(texts, media_parts)`` of one OpenAI message content (a string or a list of parts)."""
    if content is None:
        return [], 0
    if isinstance(content, str):
        return [content], 0
    texts: list[str] = []
    media = 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text"):
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        else:
            media += 1
    return texts, media


def count_chat_prompt(messages: list[Any], tools: list[Any] | None = None) -> int:
    """Prompt tokens the sandbox reports for this OpenAI-shaped prompt (``tools`` as given in
    the request), for metering a stream that ended without usage."""
    return sum(sum(count_text(t) for t in texts) + count_media(media)
               for texts, media in chat_prompt_segments(messages, tools))
