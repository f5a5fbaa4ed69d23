"""Signed receipts: a compact JWS (EdDSA over Ed25519) stating how one request was served.

The claims are built from the request's usage record (handed over as plain values: compliance
never reads billing) and signed with the newest of the operator's `RECEIPT_SIGNING_KEYS`. Every
configured key is published at `/.well-known/jwks.json` under its RFC 7638 thumbprint as `kid`,
so a receipt signed before a rotation still verifies while its key stays in the list. An auditor
needs nothing of ours to check one: any JWT library, the JWKS and the receipt.

Keys are base64url 32-byte Ed25519 seeds (settings.py checks the format). With none configured
outside production, a development key is generated on first use and kept in
`RECEIPT_DEV_KEY_FILE` (beside the SQLite database); production refuses to start without keys.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.money import api_usd

ALGORITHM = "EdDSA"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def new_seed() -> str:
    """A fresh key in the `RECEIPT_SIGNING_KEYS` format: 32 random bytes, base64url."""
    return b64url(os.urandom(32))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    # The public half as a JWK (kty, crv, x), as the JWKS publishes it.
    public_jwk: dict[str, str]
    private_key: Ed25519PrivateKey = field(repr=False)


def thumbprint(public_jwk: Mapping[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members (crv, kty, x), sorted, no whitespace."""
    members = {name: public_jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return b64url(hashlib.sha256(canonical).digest())


def signing_key(seed: str) -> SigningKey:
    private_key = Ed25519PrivateKey.from_private_bytes(_unb64url(seed))
    raw_public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public)}
    return SigningKey(kid=thumbprint(public_jwk), public_jwk=public_jwk, private_key=private_key)


def load_or_create_dev_seed(path: Path) -> str:
    """The development key kept in `path`, generated and written there on first use.

    Several processes may start at once (server, gateway, test workers): the key is written to
    a temporary file and linked into place, which fails if another process won, so every
    process ends up reading the same complete key.
    """
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".receipt-key-")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp's file is private to us (0600)
            handle.write(new_seed() + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text().strip()


@functools.lru_cache(maxsize=8)
def _keys_from(seeds: tuple[str, ...]) -> tuple[SigningKey, ...]:
    return tuple(signing_key(seed) for seed in seeds)


@functools.lru_cache(maxsize=8)
def _dev_seed(path: str) -> str:
    return load_or_create_dev_seed(Path(path))


def signing_keys() -> tuple[SigningKey, ...]:
    """The configured keys, newest first (the development key when none are configured)."""
    seeds = tuple(settings.RECEIPT_SIGNING_KEYS)
    if not seeds:
        if settings.IS_PRODUCTION:  # settings.py refuses this already; never sign with a dev key
            raise ImproperlyConfigured("RECEIPT_SIGNING_KEYS is not set")
        seeds = (_dev_seed(str(settings.RECEIPT_DEV_KEY_FILE)),)
    return _keys_from(seeds)


def jwks(keys: tuple[SigningKey, ...] | None = None) -> dict[str, Any]:
    """The public keys as a JSON Web Key Set, newest first."""
    return {"keys": [{**key.public_jwk, "kid": key.kid, "alg": ALGORITHM, "use": "sig"}
                     for key in (keys if keys is not None else signing_keys())]}


def receipt_claims(record: Mapping[str, Any], *, issuer: str) -> dict[str, Any]:
    """What a receipt states, from a usage record's values (billing's `get_usage_record`)."""
    claims: dict[str, Any] = {
        "sub": record["request_id"],  # the generation id, as /v1/generation?id= takes it
        "jti": record["request_id"],
        "iat": int(record["created_at"].timestamp()),  # when the request arrived
        "org": record["org_id"],
        "key_id": record["api_key_id"],
        "model": record["served_model"],
        "provider": record["provider_slug"],
        "region": record["region"],
        "is_byok": record["is_byok"],
        "zdr": record["zdr"],
        "policy_version": record["policy_version"],
        "prompt_tokens": record["prompt_tokens"],
        "completion_tokens": record["completion_tokens"],
        "cost": api_usd(record["charge_nanos"]),  # exact USD, a string: never a float
        "request_sha256": record["request_sha256"],
    }
    if issuer:
        claims["iss"] = issuer
    return claims


@dataclass(frozen=True)
class SignedReceipt:
    token: str  # the compact JWS
    kid: str
    jwks_uri: str  # where its public key is published


JWKS_PATH = "/.well-known/jwks.json"


def issue_receipt(record: Mapping[str, Any],
                  keys: tuple[SigningKey, ...] | None = None) -> SignedReceipt:
    """A usage record's receipt, signed with the newest key (its `kid` in the JWS header)."""
    key = (keys if keys is not None else signing_keys())[0]
    base_url = settings.PUBLIC_URL.rstrip("/")
    token = jwt.encode(receipt_claims(record, issuer=base_url), key.private_key,
                       algorithm=ALGORITHM, headers={"kid": key.kid})
    return SignedReceipt(token=token, kid=key.kid, jwks_uri=base_url + JWKS_PATH)
