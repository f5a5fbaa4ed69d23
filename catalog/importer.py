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

from catalog.models import Endpoint, Model, Price, Provider, validate_base_url
from catalog.services import (
    ENDPOINT_FIELDS,
    MODEL_FIELDS,
    PROVIDER_FIELDS,
    _apply,
    bump_catalog_version,
)
from marketplace.tenancy.audit import record_audit

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


def _prices_in_force(at: dt.datetime) -> dict[int, Price]:
    prices: dict[int, Price] = {}
    for price in Price.objects.filter(effective_from__lte=at).order_by("endpoint_id",
                                                                        "-effective_from"):
        prices.setdefault(price.endpoint_id, price)
    return prices


def _upsert_all(model_cls, rows: list[tuple[dict, dict]], fields: tuple[str, ...], kind: str,
                result: ImportResult, existing: dict) -> None:
    """Create the missing rows in one bulk insert; save the ones whose fields changed."""
    new = []
    for lookup, data in rows:
        key = tuple(lookup.values())
        instance = existing.get(key)
        if instance is None:
            instance = model_cls(**lookup)
            _apply(instance, fields, data)
            existing[key] = instance
            new.append(instance)
        elif _apply(instance, fields, data):
            instance.save()
            result.updated[kind] += 1
    model_cls.objects.bulk_create(new)  # PostgreSQL and SQLite both return the new ids
    result.created[kind] += len(new)


@transaction.atomic
def import_catalog(fixture: dict[str, Any], *, sandbox: bool,
                   now: dt.datetime | None = None, actor=None) -> ImportResult:
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
    for row in provider_rows:  # bulk_create skips clean(); the curated file is not resolved
        validate_base_url(row["base_url"], resolve_names=False)

    _upsert_all(Provider, [({"slug": r["slug"]}, {k: v for k, v in r.items() if k != "slug"})
                           for r in provider_rows], PROVIDER_FIELDS, "providers", result,
                providers)
    model_rows = []
    for row in fixture["models"]:
        data = {k: v for k, v in row.items() if k != "slug"}
        data["released_on"] = _date(data.get("released_on"))
        data["expires_on"] = _date(data.get("expires_on"))
        model_rows.append(({"slug": row["slug"]}, data))
    _upsert_all(Model, model_rows, MODEL_FIELDS, "models", result, models)
    _upsert_all(Endpoint, [
        ({"model_id": models[(r["model"],)].id, "provider_id": providers[(r["provider"],)].id},
         {k: r[k] for k in ENDPOINT_FIELDS if k in r})
        for r in endpoint_rows
    ], ENDPOINT_FIELDS, "endpoints", result, endpoints)

    in_force = _prices_in_force(now)
    new_prices = []
    for row in endpoint_rows:
        endpoint = endpoints[(models[(row["model"],)].id, providers[(row["provider"],)].id)]
        wanted = {name: row["price"].get(name, 0) for name in Price.NANOS_FIELDS}
        current = in_force.get(endpoint.id)
        if current is not None and current.amounts() == wanted:
            continue
        new_prices.append(Price(
            endpoint=endpoint, effective_from=now, source=row["price"].get("source", ""),
            source_date=_date(row["price"].get("source_date")), **wanted,
        ))
    Price.objects.bulk_create(new_prices)
    result.created["prices"] += len(new_prices)
    if result.changed:
        bump_catalog_version()
        # One entry per import that changed something: the counts, not thousands of rows.
        record_audit(org=None, action="catalog.imported", actor=actor, target_label="fixture",
                     after={"created": result.created, "updated": result.updated})
    return result
