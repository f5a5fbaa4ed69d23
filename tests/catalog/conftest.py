"""Catalog test fixtures: the committed fixture file, imported through the real importer."""

from __future__ import annotations

import copy
import json

import pytest

from catalog.importer import FIXTURE_PATH, import_catalog


@pytest.fixture(scope="session")
def _fixture_text() -> str:
    return FIXTURE_PATH.read_text()


@pytest.fixture
def catalog_fixture(_fixture_text) -> dict:
    """A fresh copy of catalog/fixtures/catalog.json (tests may change it)."""
    return json.loads(_fixture_text)


@pytest.fixture
def imported_catalog(db, settings, catalog_fixture):
    """The committed catalog with the sandbox providers, loaded as `import_catalog` does."""
    settings.SANDBOX = True
    import_catalog(copy.deepcopy(catalog_fixture), sandbox=True)
    return catalog_fixture
