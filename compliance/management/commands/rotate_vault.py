"""`manage.py rotate_vault`: re-encrypt every BYOK key under the newest VAULT_KEYS entry.

Run it after putting a new key in front of VAULT_KEYS (every process restarted with the new
list); once it reports nothing left to rotate, the old key may be dropped. Idempotent.
"""

from django.core.management.base import BaseCommand, CommandError

from compliance import vault
from compliance.byok import rotate_vault


class Command(BaseCommand):
    help = "Re-encrypt every BYOK key under the newest vault key (VAULT_KEYS, newest first)."

    def handle(self, *args, **options):
        try:
            rotated, current = rotate_vault()
        except vault.VaultNotConfigured as exc:
            raise CommandError(exc.message) from exc
        except vault.VaultDecryptError as exc:
            raise CommandError(
                "a BYOK key opens under none of VAULT_KEYS (was a key dropped before "
                "rotating?); nothing was changed") from exc
        self.stdout.write(f"rotated {rotated} BYOK keys; {current} were already under the "
                          "newest vault key")
