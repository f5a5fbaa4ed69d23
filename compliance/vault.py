"""The BYOK key vault: provider keys encrypted at rest, bound to their org, under rotatable keys.

`VAULT_KEYS` holds Fernet master keys, newest first. A key is never used directly: each org gets
its own Fernet key derived from every master key with HKDF-SHA256 (the org id in `info`), and a
`MultiFernet` of those encrypts under the newest and decrypts under any. A ciphertext copied to
another org's row is therefore authenticated under a different derived key and fails to decrypt,
and `rotate` (used by `manage.py rotate_vault`) re-encrypts a token under the newest master key.

Every decrypted value is registered with core.redaction (a weak set of its holder), so the
logging filter scrubs it from log lines even if a mistake puts it there.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from core.errors import SwitchyardError

_SALT = b"switchyard-byok-vault-v1"


class VaultNotConfigured(SwitchyardError):
    """No vault key: BYOK keys can be neither stored nor read (an operator must set one)."""

    status = 503
    code = "vault_not_configured"
    message = ("Bring-your-own keys are unavailable: the operator has not configured a "
                       "vault key (VAULT_KEYS).")


class VaultDecryptError(Exception):
    """A ciphertext that no vault key opens for this org (wrong org, or an unknown key)."""


def parse_master_key(value: str) -> bytes:
    """A Fernet key (url-safe base64 of 32 bytes) as raw bytes; ValueError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(value.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("a vault key must be a Fernet key (url-safe base64 of 32 bytes)") from None
    if len(raw) != 32:
        raise ValueError("a vault key must be a Fernet key (url-safe base64 of 32 bytes)")
    return raw


def generate_master_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _master_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in settings.VAULT_KEYS if k and k.strip())
    if not keys:
        raise VaultNotConfigured()
    return keys


def _derive(master: str, org_id: int) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
                   info=f"org:{int(org_id)}".encode()).derive(parse_master_key(master))
    return Fernet(base64.urlsafe_b64encode(derived))


@functools.lru_cache(maxsize=4096)
def _org_fernet(masters: tuple[str, ...], org_id: int) -> MultiFernet:
    # Cached per (key list, org): HKDF per decryption would cost more than the decryption.
    return MultiFernet([_derive(master, org_id) for master in masters])


def is_configured() -> bool:
    return any(k and k.strip() for k in settings.VAULT_KEYS)


def encrypt(org_id: int, plaintext: str) -> str:
    """The token of `plaintext` for `org_id`, under the newest master key."""
    return _org_fernet(_master_keys(), org_id).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(org_id: int, token: str) -> str:
    """The plaintext of a token made for `org_id`; VaultDecryptError for any other token."""
    try:
        return _org_fernet(_master_keys(), org_id).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise VaultDecryptError("the BYOK ciphertext does not open under this org's vault keys") \
            from exc


def rotate(org_id: int, token: str) -> str:
    """The same plaintext re-encrypted under the newest master key (VaultDecryptError if the
    token opens under none)."""
    try:
        return _org_fernet(_master_keys(), org_id).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise VaultDecryptError("the BYOK ciphertext does not open under this org's vault keys") \
            from exc


def is_current(org_id: int, token: str) -> bool:
    """Whether the newest master key opens `token` (rotation has nothing to do for it)."""
    try:
        _derive(_master_keys()[0], org_id).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True
