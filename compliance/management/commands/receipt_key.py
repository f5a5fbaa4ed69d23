"""`python manage.py receipt_key`: print a new receipt signing key (and its `kid`).

Put it in front of `RECEIPT_SIGNING_KEYS` to rotate: the new key signs from then on, and the
old ones stay published in the JWKS so the receipts they signed still verify.
"""

from django.core.management.base import BaseCommand

from compliance.receipts import new_seed, signing_key


class Command(BaseCommand):
    help = "Print a new Ed25519 key for RECEIPT_SIGNING_KEYS (base64url seed) on stdout."

    def add_arguments(self, parser):
        parser.add_argument("--kid", action="store_true",
                            help="Also print the key's kid (its JWK thumbprint) on stderr.")

    def handle(self, *args, **options):
        seed = new_seed()
        # The secret goes to stdout alone, so `$(python manage.py receipt_key)` captures it.
        self.stdout.write(seed)
        if options["kid"]:
            self.stderr.write(f"kid {signing_key(seed).kid}")
