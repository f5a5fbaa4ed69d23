"""Strip secrets from text we did not write before it is logged or shown to anyone.

Provider error bodies may echo what they were sent (an API key, an Authorization header, a URL
with credentials, a customer's email). `redact` removes what looks like a secret plus the exact
secrets the caller names (the platform's provider key); `short_message` also flattens and caps
the text for an error message. Stdlib only, so every app may use it.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
import weakref
from collections.abc import Iterable
from typing import Any

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
)
# What the logging filter also applies to text we wrote ourselves: the shapes above are never
# legitimate in a log line, while emails and long ids (request ids, hashes) are.
_LOG_RULES = _RULES
_RULES = _RULES + (
    # email addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    # long opaque tokens (letters and digits, 32+ characters): hex keys, base64 secrets
    (re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])"
                r"[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])"), REDACTED),
)


def _replaced(text: str, secrets: Iterable[str | None],
              rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets and anything shaped like a secret replaced."""
    return _replaced(text, secrets, _RULES)


def redact_log(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets and secret-shaped strings (keys, Authorization values,
    credentials in URLs, `api_key=...`) replaced; emails and long ids are kept."""
    return _replaced(text, secrets, _LOG_RULES)


def short_message(text: str, secrets: Iterable[str | None] = (),
                  limit: int = MESSAGE_LIMIT) -> str:
    """A redacted one-line message of at most `limit` characters."""
    text = " ".join(redact(text, secrets).split())
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


# --- Live secrets: values decrypted at run time (BYOK keys) that no pattern may catch --------

class _LiveSecrets:
    """A weak set of objects holding a decrypted secret in `api_key` (BYOK credentials).

    Process-wide on purpose: the logging filter must know every decrypted key, whichever
    component decrypted it. Weak, so a key leaves the set when its last holder (a cached
    caller) is dropped; a lock, because the gateway's database threads add while any thread logs.
    """

    def __init__(self) -> None:
        self._holders: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def register(self, holder: Any) -> None:
        with self._lock:
            self._holders.add(holder)

    def values(self) -> list[str]:
        with self._lock:
            holders = list(self._holders)
        return [secret for holder in holders
                if isinstance(secret := getattr(holder, "api_key", None), str) and secret]


LIVE_SECRETS = _LiveSecrets()


def register_secret(holder: Any) -> None:
    """Have the logging filter scrub `holder.api_key` for as long as `holder` lives."""
    LIVE_SECRETS.register(holder)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message, arguments and traceback.

    Installed on the root handlers (marketplace/settings.py's LOGGING), so a secret that a
    mistake passes to a logger (a provider key in an error, an Authorization header, a BYOK
    key) is replaced before any handler writes it: shaped secrets by `redact`'s rules, and the
    exact values of the BYOK keys decrypted in this process (LIVE_SECRETS).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = LIVE_SECRETS.values()
        # A structlog event (a dict) is redacted by its formatter (marketplace/logs.py).
        if not isinstance(record.msg, dict):
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record is logged as best we can
                message = str(record.msg)
            record.msg = redact_log(message, secrets)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact_log(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact_log(record.stack_info, secrets)
        return True
