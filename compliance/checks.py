"""Start-up check: stored BYOK keys need a vault key to be read (compliance/vault.py).

Outside production settings always supply one (the development key); a production deployment
that drops VAULT_KEYS while BYOK rows exist would silently route those orgs on the platform's
keys (or not at all), so every management command (migrate included) refuses instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError


@register()
def vault_keys_for_stored_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if any(key.strip() for key in settings.VAULT_KEYS):
        return []
    from compliance.models import ByokKey

    try:
        stored = ByokKey.objects.exists()
    except DatabaseError:  # no database yet (or not migrated): nothing stored to protect
        return []
    if not stored:
        return []
    return [Error("BYOK keys are stored but VAULT_KEYS is empty: they cannot be decrypted.",
                  hint="Set VAULT_KEYS to the Fernet keys they were encrypted under.",
                  id="compliance.E001")]
