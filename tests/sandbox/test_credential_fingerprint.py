"""The sandbox's request log proves which credential a request carried, never holding it:
`credential_fingerprint` is the first 12 hex digits of its SHA-256 (or "none"), per wire."""

from __future__ import annotations

import hashlib
import json

import httpx

KEY = "sandbox-test-credential-0123456789"
PRINT = hashlib.sha256(KEY.encode()).hexdigest()[:12]
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-sonnet-4", "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def _logged(sandbox, slug: str) -> dict:
    entries = sandbox.control.requests(slug)
    assert len(entries) == 1
    assert KEY not in json.dumps(entries)  # neither in headers, query nor anywhere else
    return entries[0]


def test_each_wires_credential_is_fingerprinted_and_never_logged(sandbox):
    base = sandbox.base_url
    httpx.post(f"{base}/fp-openai/v1/chat/completions", json=CHAT,
               headers={"Authorization": f"Bearer {KEY}"}).raise_for_status()
    httpx.post(f"{base}/fp-anthropic/v1/messages", json=MESSAGES,
               headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"}).raise_for_status()
    httpx.post(f"{base}/fp-gemini/v1beta/models/gemini-2.5-flash:generateContent", json=GEMINI,
               headers={"x-goog-api-key": KEY}).raise_for_status()
    httpx.post(f"{base}/fp-gemini-q/v1beta/models/gemini-2.5-flash:generateContent",
               json=GEMINI, params={"key": KEY}).raise_for_status()
    httpx.post(f"{base}/fp-none/v1/chat/completions", json=CHAT).raise_for_status()

    for slug in ("fp-openai", "fp-anthropic", "fp-gemini", "fp-gemini-q"):
        assert _logged(sandbox, slug)["credential_fingerprint"] == PRINT, slug
    assert _logged(sandbox, "fp-none")["credential_fingerprint"] == "none"
    headers = _logged(sandbox, "fp-openai")["headers"]
    assert not {"authorization", "x-api-key", "x-goog-api-key"} & {h.lower() for h in headers}
