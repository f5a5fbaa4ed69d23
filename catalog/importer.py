"""Load the curated fixture (catalog/fixtures/catalog.json) into the catalog, idempotently.

One transaction: providers, models and endpoints are upserted by their natural keys, a price is
added as a new version only when its amounts differ from the version in force, and the catalog
version is bumped only if something changed. Running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import Endpoint, Model, Price, Provider
from catalog.services import (
    ENDPOINT_FIELDS,
    MODEL_FIELDS,
    PROVIDER_FIELDS,
    _apply,
    bump_catalog_version,
)

FIXTURE_PATH = Path(__file__).resolve().parent / "fixtures" / "catalog.json"


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: {
        "providers": 0, "models": 0, "endpoints": 0, "prices": 0})
    updated: dict[str, int] = field(default_factory=lambda: {
        "providers": 0, "models": 0, "endpoints": 0})

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def load_fixture(path: Path | str = FIXTURE_PATH) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _upsert(model_cls, lookup: dict, fields: tuple[str, ...], data: dict, kind: str,
            result: ImportResult, existing: dict):
    key = tuple(lookup.values())
    instance = existing.get(key)
    if instance is None:
        instance = model_cls(**lookup)
        _apply(instance, fields, data)
        instance.save()
        existing[key] = instance
        result.created[kind] += 1
    elif _apply(instance, fields, data):
        instance.save()
        result.updated[kind] += 1
    return instance


def _price_in_force(endpoint: Endpoint, at: dt.datetime) -> Price | None:
    return (Price.objects.filter(endpoint=endpoint, effective_from__lte=at)
            .order_by("-effective_from").first())


@transaction.atomic
def import_catalog(fixture: dict[str, Any], *, sandbox: bool,
                   now: dt.datetime | None = None) -> ImportResult:
    """Upsert the fixture (plus the sandbox providers when `sandbox`); bump the version once."""
    now = now or timezone.now()
    result = ImportResult()
    providers = {(p.slug,): p for p in Provider.objects.all()}
    models = {(m.slug,): m for m in Model.objects.all()}
    endpoints = {(e.model_id, e.provider_id): e for e in Endpoint.objects.all()}

    provider_rows = [dict(p, is_sandbox=False) for p in fixture["providers"]]
    endpoint_rows = list(fixture["endpoints"])
    if sandbox:
        provider_rows += [dict(p, is_sandbox=True) for p in fixture["sandbox"]["providers"]]
        endpoint_rows += fixture["sandbox"]["endpoints"]

    for row in provider_rows:
        data = {k: v for k, v in row.items() if k != "slug"}
        _upsert(Provider, {"slug": row["slug"]}, PROVIDER_FIELDS, data, "providers", result,
                providers)
    for row in fixture["models"]:
        data = {k: v for k, v in row.items() if k != "slug"}
        data["released_on"] = _date(data.get("released_on"))
        data["expires_on"] = _date(data.get("expires_on"))
        _upsert(Model, {"slug": row["slug"]}, MODEL_FIELDS, data, "models", result, models)
    for row in endpoint_rows:
        model = models[(row["model"],)]
        provider = providers[(row["provider"],)]
        data = {k: row[k] for k in ENDPOINT_FIELDS if k in row}
        endpoint = _upsert(Endpoint, {"model_id": model.id, "provider_id": provider.id},
                           ENDPOINT_FIELDS, data, "endpoints", result, endpoints)
        wanted = {name: row["price"].get(name, 0) for name in Price.NANOS_FIELDS}
        current = _price_in_force(endpoint, now)
        if current is not None and current.amounts() == wanted:
            continue
        Price.objects.create(
            endpoint=endpoint, effective_from=now, source=row["price"].get("source", ""),
            source_date=_date(row["price"].get("source_date")), **wanted,
        )
        result.created["prices"] += 1
    if result.changed:
        bump_catalog_version()
    return result
