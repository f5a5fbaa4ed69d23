"""Wire-neutral answers: each wire module parses its request into an ``Ask`` and renders the
``Answer`` this module computes, so the three formats answer the same prompt the same way.

The reply to a plain prompt is ``"Sandbox reply to: <first 8 tokens of the last user text>."``
padded with filler words to ``DEFAULT_REPLY_TOKENS`` tokens (a ``sandbox:tokens=N`` directive in
the last user text sets N instead), then cut at the request's max tokens (finish: length).
Reasoning, when asked for, is a separate text of ``reasoning_tokens_for(...)`` tokens.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from routing.sandbox import tokens
from routing.sandbox.schema_instance import instance_for

DEFAULT_REPLY_TOKENS = 20
MAX_REPLY_TOKENS = 100_000
ECHO_TOKENS = 8
AUTO_CACHE_MIN_TOKENS = 64
EFFORT_TOKENS = {"minimal": 8, "low": 16, "medium": 32, "high": 64}
MAX_REASONING_TOKENS = 64
_FILLER = [
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua",
]
_DIRECTIVE = re.compile(r"sandbox:tokens=(\d+)")


@dataclass
class Segment:
    """One cacheable piece of the prompt (a tool, a system block, a message or a block)."""

    texts: list[str] = field(default_factory=list)
    media: int = 0
    cache_control: bool = False

    def token_count(self) -> int:
        return sum(tokens.count_text(t) for t in self.texts) + tokens.count_media(self.media)

    def key(self) -> bytes:
        return repr((self.texts, self.media)).encode()


@dataclass
class Tool:
    name: str
    schema: dict[str, Any]


@dataclass
class Ask:
    model: str
    segments: list[Segment]
    last_user_text: str = ""
    max_tokens: int | None = None
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str | None = None  # None: the first tool; "none": no call; else a tool name
    json_schema: dict[str, Any] | None = None
    json_mode: bool = False
    reasoning_tokens: int = 0
    stop: list[str] = field(default_factory=list)
    explicit_cache: bool = False  # Anthropic: cache only at cache_control breakpoints
    stream: bool = False
    sse: bool = True  # stream framing: SSE, or (Gemini without alt=sse) one JSON array
    show_thoughts: bool = False  # Gemini includeThoughts: thought parts in the answer


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # compact JSON text
    args: dict[str, Any]


@dataclass
class Answer:
    text: str
    reasoning: str
    tool_call: ToolCall | None
    finish: str  # "stop", "length", "tool_calls" or "stop_sequence"
    stop_sequence: str | None
    prompt_tokens: int
    completion_tokens: int  # visible text or tool call, reasoning excluded
    reasoning_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


def reasoning_tokens_for(effort: str | None = None, budget: int | None = None) -> int:
    """Reasoning length: an effort name maps through EFFORT_TOKENS, a budget is capped at 64."""
    if budget is not None:
        return max(0, min(int(budget), MAX_REASONING_TOKENS))
    return EFFORT_TOKENS.get(str(effort), 0) if effort else 0


def reply_text(last_user_text: str) -> str:
    """The full (uncut) reply to ``last_user_text``."""
    wanted = DEFAULT_REPLY_TOKENS
    directive = _DIRECTIVE.search(last_user_text)
    if directive:
        wanted = min(int(directive.group(1)), MAX_REPLY_TOKENS)
    echo = " ".join(tokens.truncate(last_user_text.strip(), ECHO_TOKENS).split())
    return _pad(f"Sandbox reply to: {echo}." if echo else "Sandbox reply.", wanted)


def _pad(text: str, wanted: int) -> str:
    have = tokens.count_text(text)
    if have >= wanted:
        return tokens.truncate(text, wanted)
    words = [_FILLER[i % len(_FILLER)] for i in range(wanted - have)]
    return text + " " + " ".join(words)


class PromptCache:
    """Prefixes each provider has seen (in memory), for cached/cache-write token reports."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def clear(self) -> None:
        self.seen.clear()

    @staticmethod
    def _prefixes(segments: Iterable[Segment]) -> Iterator[tuple[bytes, int, Segment]]:
        digest, total = b"", 0
        for segment in segments:
            digest = hashlib.sha256(digest + segment.key()).digest()
            total += segment.token_count()
            yield digest, total, segment

    def automatic(self, segments: Iterable[Segment]) -> int:
        """OpenAI/Gemini rule: tokens of the longest prefix (at segment boundaries) an earlier
        prompt also had, when at least AUTO_CACHE_MIN_TOKENS long; every prefix is remembered."""
        hit = 0
        for digest, total, _ in self._prefixes(segments):
            if digest in self.seen and total >= AUTO_CACHE_MIN_TOKENS:
                hit = total
            self.seen.add(digest)
        return hit

    def explicit(self, segments: Iterable[Segment]) -> tuple[int, int]:
        """Anthropic rule: (read, write) tokens for the prefix ending at the last
        ``cache_control`` breakpoint: read up to the longest breakpoint seen before, write
        the rest."""
        read = last = 0
        marks = []
        for digest, total, segment in self._prefixes(segments):
            if segment.cache_control:
                last = total
                if digest in self.seen:
                    read = total
                marks.append(digest)
        self.seen.update(marks)
        return read, last - read


def answer(ask: Ask, cache: PromptCache, call_id: str) -> Answer:
    prompt = sum(s.token_count() for s in ask.segments)
    if ask.explicit_cache:
        read, write = cache.explicit(ask.segments)
    else:
        read, write = cache.automatic(ask.segments), 0
    reasoning = ""
    if ask.reasoning_tokens:
        echo = " ".join(tokens.truncate(ask.last_user_text.strip(), 4).split())
        reasoning = _pad(f"Considering: {echo}.", ask.reasoning_tokens)
    tool = _chosen_tool(ask)
    if tool is not None:
        args = instance_for(tool.schema or {"type": "object"})
        if not isinstance(args, dict):
            args = {}
        text = tokens.canonical_json(args)
        used = tokens.count_text(tool.name) + tokens.count_text(text)
        return Answer(
            "", reasoning, ToolCall(call_id, tool.name, text, args), "tool_calls", None,
            prompt, used, tokens.count_text(reasoning), read, write,
        )
    if ask.json_schema is not None:
        text = tokens.canonical_json(instance_for(ask.json_schema))
    elif ask.json_mode:
        text = tokens.canonical_json({"reply": reply_text(ask.last_user_text)})
    else:
        text = reply_text(ask.last_user_text)
    finish, stop_sequence = "stop", None
    hits = [(text.find(s), s) for s in ask.stop if s and s in text]
    if hits:
        at, stop_sequence = min(hits)
        text, finish = text[:at], "stop_sequence"
    if ask.max_tokens is not None and tokens.count_text(text) > ask.max_tokens:
        text, finish, stop_sequence = tokens.truncate(text, ask.max_tokens), "length", None
    return Answer(
        text, reasoning, None, finish, stop_sequence, prompt, tokens.count_text(text),
        tokens.count_text(reasoning), read, write,
    )


def _chosen_tool(ask: Ask) -> Tool | None:
    if not ask.tools or ask.tool_choice == "none":
        return None
    if ask.tool_choice:
        return next((t for t in ask.tools if t.name == ask.tool_choice), ask.tools[0])
    return ask.tools[0]
