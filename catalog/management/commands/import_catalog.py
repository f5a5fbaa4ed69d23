"""`manage.py import_catalog`: load or update the curated catalog fixture (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.importer import FIXTURE_PATH, import_catalog, load_fixture


class Command(BaseCommand):
    help = "Load or update the catalog from catalog/fixtures/catalog.json; a second run is a no-op."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(FIXTURE_PATH), help="fixture file to load")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--sandbox", dest="sandbox", action="store_true", default=None,
                           help="also add the sandbox providers (default: settings.SANDBOX)")
        group.add_argument("--no-sandbox", dest="sandbox", action="store_false")

    def handle(self, *args, path, sandbox, **options):
        sandbox = settings.SANDBOX if sandbox is None else sandbox
        result = import_catalog(load_fixture(path), sandbox=sandbox)
        created = ", ".join(f"{n} {k}" for k, n in result.created.items())
        updated = ", ".join(f"{n} {k}" for k, n in result.updated.items())
        state = "changed" if result.changed else "unchanged"
        self.stdout.write(f"catalog {state}: created {created}; updated {updated}")
