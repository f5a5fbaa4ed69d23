"""The sandbox's deterministic token counter, shared with the gateway.

One rule, so tests (and the gateway metering a stream that ended without usage) can predict
usage exactly: a token is a run of word characters (``\\w+``) or a run of other non-space
characters (``[^\\w\\s]+``); whitespace is free. Images and other media parts count a fixed
``MEDIA_TOKENS`` each. ``"Hello, world!"`` is 4 tokens: ``Hello``, ``,``, ``world``, ``!``.
"""

import json
import re

TOKEN_RE = re.compile(r"\w+|[^\w\s]+")
MEDIA_TOKENS = 85


def count_text(text: str) -> int:
    """Tokens in ``text`` under the sandbox rule."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def count_media(parts: int) -> int:
    """Tokens for ``parts`` image/audio/document parts."""
    return parts * MEDIA_TOKENS


def canonical_json(value) -> str:
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
