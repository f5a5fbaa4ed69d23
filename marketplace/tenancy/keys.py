"""Org API key material: minting and the keyed hash. Pure functions, no database.

A key is `sk-sy-` followed by 43 URL-safe random characters (32 bytes of entropy). Only its
HMAC-SHA256 under `settings.API_KEY_HASH_SECRET` is stored, so a leaked database does not leak
usable keys, and a plain SHA-256 rainbow table is useless without the secret.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "sk-sy-"
# Characters of the key kept for display ("sk-sy-" + 8 random characters).
DISPLAY_PREFIX_LENGTH = 14
_RANDOM_BYTES = 32


def hash_api_key(plaintext: str, secret: str | None = None) -> str:
    """Return the hex HMAC-SHA256 of `plaintext` under the key-hash secret."""
    key = (secret if secret is not None else settings.API_KEY_HASH_SECRET).encode()
    # hmac.digest is OpenSSL's one-shot HMAC: a third of hmac.new()'s cost, once per request.
    return hmac.digest(key, plaintext.encode(), "sha256").hex()


def generate_api_key() -> tuple[str, str, str]:
    """Mint a new key; return (plaintext, display prefix, key hash)."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    return plaintext, plaintext[:DISPLAY_PREFIX_LENGTH], hash_api_key(plaintext)


def looks_like_api_key(candidate: str) -> bool:
    """Cheap shape check, so garbage is refused before any hashing or lookup."""
    return (
        candidate.startswith(KEY_PREFIX)
        and len(candidate) >= len(KEY_PREFIX) + 40
        and len(candidate) <= 200
    )
