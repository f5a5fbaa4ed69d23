"""Strip secrets from text we did not write before it is logged or shown to anyone.

Provider error bodies may echo what they were sent (an API key, an Authorization header, a URL
with credentials, a customer's email). `redact` removes what looks like a secret plus the exact
secrets the caller names (the platform's provider key); `short_message` also flattens and caps
the text for an error message. Stdlib only, so every app may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
MESSAGE_LIMIT = 120

_SECRET_NAMES = (r"api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|secret|"
                 r"password|passwd|authorization|token|x-goog-api-key|signature|sig")
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # URLs carrying credentials: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@]+@"), rf"\1{REDACTED}@"),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}"), rf"\1 {REDACTED}"),
    # Key shapes: OpenAI/Anthropic/OpenRouter/ours (sk-...), Google (AIza...), xAI, Groq,
    # GitHub, AWS access key ids, JWTs
    (re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}|\bAIza[0-9A-Za-z_-]{16,}"
                r"|\bxai-[A-Za-z0-9_-]{12,}|\bgsk_[A-Za-z0-9]{12,}|\bgh[pousr]_[A-Za-z0-9]{16,}"
                r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
                r"(?:\.[A-Za-z0-9_-]*)?"), REDACTED),
    # name=value, "name": "value" and name: value for secret-sounding names
    (re.compile(rf"(?i)\b((?:{_SECRET_NAMES})[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])"
                r"[^\s\"',;&}]+"), rf"\1{REDACTED}"),
    # email addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    # long opaque tokens (letters and digits, 32+ characters): hex keys, base64 secrets
    (re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])"
                r"[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])"), REDACTED),
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets and anything shaped like a secret replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def short_message(text: str, secrets: Iterable[str | None] = (),
                  limit: int = MESSAGE_LIMIT) -> str:
    """A redacted one-line message of at most `limit` characters."""
    text = " ".join(redact(text, secrets).split())
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text
