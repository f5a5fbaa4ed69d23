"""What the classifier reads of an OpenAI- or Anthropic-shaped request body.

The body comes from outside, so nothing here trusts a type: anything unexpected is skipped.
The text kept is bounded (the system prompt's head; the last user messages' head and tail,
where instructions sit around a pasted document), so labelling costs the same for a 1 MB prompt
as for a 2 kB one. The view lives only for one call: nothing of it is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SYSTEM_CHARS = 400
USER_HEAD_CHARS = 300
USER_TAIL_CHARS = 300
INSTRUCTION_CHARS = 300
LAST_USER_MESSAGES = 2
# A user message this long carries a pasted document, not just an instruction.
DOCUMENT_CHARS = 1500

_CODE_RE = re.compile(r"```|\bdef \w+\(|\bfunction \w*\(|=>|#include|\bSELECT\b.+\bFROM\b", re.M)
# A question mark, or a sentence that opens as a question or points at the document.
_QUESTION_RE = re.compile(
    r"\?|(?:^|[.!:\n]\s*)(?:what|which|who|when|where|why|how|does|do|is|are|can"
    r"|according to|based on|using the|from the)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RequestView:
    text: str  # bounded: at most SYSTEM_CHARS + LAST_USER_MESSAGES * (head + tail) characters
    has_tools: bool
    wants_json: bool
    has_document: bool
    asks_question: bool
    has_code: bool
    user_turns: int


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and part.get("type") in ("text", "input_text"):
        text = part.get("text")
        return text if isinstance(text, str) else ""
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(t for t in (_part_text(p) for p in content) if t)
    return ""


def _has_tool_blocks(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("tool_use", "tool_result") for p in content
    )


def _around_document(text: str) -> str:
    """What a long message says to do: its first and last lines when they are short, which is
    where an instruction around a pasted document sits (embedding the document would drown
    its few words); else the message's head and tail."""
    if len(text) <= USER_HEAD_CHARS + USER_TAIL_CHARS:
        return text
    lines = [line for line in text.splitlines() if line.strip()]
    edges = lines[:1] if len(lines) == 1 else [lines[0], lines[-1]]
    short = [line for line in edges if len(line) <= INSTRUCTION_CHARS]
    if short:
        return "\n".join(short)
    return text[:USER_HEAD_CHARS] + "\n" + text[-USER_TAIL_CHARS:]


def _tools_offered(body: dict[str, Any]) -> bool:
    if body.get("tool_choice") == "none":
        return False
    tools = body.get("tools")
    functions = body.get("functions")
    return (isinstance(tools, list) and len(tools) > 0) or (
        isinstance(functions, list) and len(functions) > 0
    )


def _wants_json(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


def view_request(body: Any) -> RequestView:
    if not isinstance(body, dict):
        body = {}
    messages = body.get("messages")
    if not isinstance(messages, list):
        messages = []

    system_parts: list[str] = []
    top_system = _content_text(body.get("system"))  # Anthropic's /v1/messages
    if top_system:
        system_parts.append(top_system)
    user_texts: list[str] = []
    tool_turns = False
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system_parts.append(_content_text(content))
        elif role == "user":
            user_texts.append(_content_text(content))
            tool_turns = tool_turns or _has_tool_blocks(content)
        elif role in ("tool", "function") or (role == "assistant" and message.get("tool_calls")):
            tool_turns = True
        elif role == "assistant":
            tool_turns = tool_turns or _has_tool_blocks(content)

    recent = [t for t in user_texts if t.strip()][-LAST_USER_MESSAGES:]
    system = " ".join(p for p in system_parts if p)[:SYSTEM_CHARS]
    # Only the last message's own instruction decides whether it asks something: a pasted
    # document is full of question words, so the question is looked for around its edges.
    last = recent[-1] if recent else ""
    edges = last if len(last) <= 400 else last[:200] + "\n" + last[-200:]
    text = "\n".join([system, *(_around_document(t) for t in recent)]).strip()
    return RequestView(
        # JSON can carry lone surrogates ("\\ud800"), which the tokenizer refuses.
        text=text.encode("utf-8", "replace").decode("utf-8"),
        has_tools=_tools_offered(body) or tool_turns,
        wants_json=_wants_json(body),
        has_document=any(len(t) >= DOCUMENT_CHARS for t in recent),
        asks_question=bool(_QUESTION_RE.search(edges)),
        has_code=bool(_CODE_RE.search(last[:4000])),
        user_turns=len(user_texts),
    )
