"""Catalog writes: each verb is one transaction that also bumps the catalog version.

The version bump lives in the same transaction as the change, so a reader that sees the new
version also sees the change (the gateway rebuilds its snapshot on a new version; pages key their
cache on it). A price is never edited: `add_price` writes a new version. Each change is also a
platform-wide audit entry (no org) in the same transaction, naming the staff `actor`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import CatalogVersion, Endpoint, EndpointHealth, Model, Price, Provider, Status
from core.errors import Conflict, InvalidRequest
from marketplace.tenancy.audit import record_audit

PROVIDER_FIELDS = ("name", "wire_format", "base_url", "regions", "retention_days",
                   "trains_on_data", "zdr", "status", "is_sandbox", "website")
MODEL_FIELDS = ("author", "name", "description", "context_length", "input_modalities",
                "output_modalities", "supports_tools", "supports_json_schema", "supports_vision",
                "supports_reasoning", "supports_prompt_caching", "tags", "released_on",
                "expires_on", "status")
ENDPOINT_FIELDS = ("upstream_model_id", "context_length", "max_output_tokens", "quantization",
                   "region", "supported_parameters", "input_modalities", "output_modalities",
                   "status")


def bump_catalog_version() -> int:
    """Increment the single-row counter; call inside the writing transaction."""
    updated = CatalogVersion.objects.filter(pk=1).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        row, created = CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 1})
        if not created:
            CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1,
                                                       updated_at=timezone.now())
    return CatalogVersion.objects.values_list("version", flat=True).get(pk=1)


def _apply(instance, fields: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    """Set the given fields that differ; return their previous values (empty: no change)."""
    previous: dict[str, Any] = {}
    for name in fields:
        if name in data and getattr(instance, name) != data[name]:
            previous[name] = getattr(instance, name)
            setattr(instance, name, data[name])
    return previous


def _values(instance, fields) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def _audit(action: str, instance, actor, *, before=None, after=None, target_label="") -> None:
    record_audit(org=None, action=action, actor=actor, target=instance, before=before,
                 after=after, target_label=target_label)


def _audit_update(action: str, instance, actor, previous: dict[str, Any]) -> None:
    _audit(action, instance, actor, before=previous, after=_values(instance, previous))


def _save(instance) -> None:
    try:
        instance.full_clean()
        instance.save()
    except ValidationError as exc:
        fields = sorted(exc.message_dict) if hasattr(exc, "error_dict") else []
        unique = any("already exists" in str(m) for m in exc.messages)
        if unique:
            raise Conflict("This would duplicate an existing catalog entry.") from exc
        raise InvalidRequest(
            "; ".join(f"{f}: {' '.join(exc.message_dict[f])}" for f in fields) or str(exc),
            param=fields[0] if fields else None,
        ) from exc
    except IntegrityError as exc:
        raise Conflict("This would duplicate an existing catalog entry.") from exc


@transaction.atomic
def create_provider(*, slug: str, actor=None, **data) -> Provider:
    provider = Provider(slug=slug)
    _apply(provider, PROVIDER_FIELDS, data)
    _save(provider)
    bump_catalog_version()
    _audit("provider.created", provider, actor,
           after={"slug": slug, **_values(provider, PROVIDER_FIELDS)})
    return provider


@transaction.atomic
def update_provider(provider: Provider, *, actor=None, **data) -> Provider:
    previous = _apply(provider, PROVIDER_FIELDS, data)
    if previous:
        _save(provider)
        bump_catalog_version()
        _audit_update("provider.updated", provider, actor, previous)
    return provider


@transaction.atomic
def create_model(*, slug: str, actor=None, **data) -> Model:
    if slug.count("/") != 1 or not all(slug.split("/")):
        raise InvalidRequest("A model slug is 'author/name'.", param="slug")
    model = Model(slug=slug)
    data.setdefault("author", slug.split("/")[0])
    data.setdefault("input_modalities", ["text"])
    data.setdefault("output_modalities", ["text"])
    _apply(model, MODEL_FIELDS, data)
    _save(model)
    bump_catalog_version()
    _audit("model.created", model, actor, after={"slug": slug, **_values(model, MODEL_FIELDS)})
    return model


@transaction.atomic
def update_model(model: Model, *, actor=None, **data) -> Model:
    previous = _apply(model, MODEL_FIELDS, data)
    if previous:
        _save(model)
        bump_catalog_version()
        _audit_update("model.updated", model, actor, previous)
    return model


MAX_LISTING_TAGS = 12
MAX_TAG_CHARS = 40


@transaction.atomic
def set_listing_text(model: Model, *, description: str, tags: list[str], actor=None,
                     source: str = "") -> Model:
    """Replace the description and tags the /models pages show (a vendor's listing edit that
    staff approved: `source` names it in the audit entry).

    Bumps the catalog version like every catalog write, so the model index cached per catalog
    stamp (catalog/listing.py) shows the new text on the next page.
    """
    clean_tags = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    if len(clean_tags) > MAX_LISTING_TAGS or any(len(t) > MAX_TAG_CHARS for t in clean_tags):
        raise InvalidRequest(f"At most {MAX_LISTING_TAGS} tags of at most {MAX_TAG_CHARS} "
                             "characters each.", param="tags")
    model = Model.objects.select_for_update().get(pk=model.pk)
    previous = _apply(model, ("description", "tags"),
                      {"description": description.strip(), "tags": clean_tags})
    if previous:
        _save(model)
        bump_catalog_version()
        after = _values(model, tuple(previous))
        if source:
            after["source"] = source
        _audit("model.listing_text_changed", model, actor, before=previous, after=after)
    return model


@transaction.atomic
def create_endpoint(*, model: Model, provider: Provider, price: dict[str, Any] | None = None,
                    actor=None, **data) -> Endpoint:
    if Endpoint.objects.filter(model=model, provider=provider).exists():
        raise Conflict(f"{provider.slug} already serves {model.slug}.")
    endpoint = Endpoint(model=model, provider=provider)
    data.setdefault("input_modalities", model.input_modalities or ["text"])
    data.setdefault("output_modalities", model.output_modalities or ["text"])
    _apply(endpoint, ENDPOINT_FIELDS, data)
    _save(endpoint)
    new_price = _insert_price(endpoint, price) if price is not None else None
    bump_catalog_version()
    _audit("endpoint.created", endpoint, actor, after={
        "model": model.slug, "provider": provider.slug, **_values(endpoint, ENDPOINT_FIELDS),
        "price": _price_values(new_price) if new_price is not None else None})
    return endpoint


@transaction.atomic
def update_endpoint(endpoint: Endpoint, *, actor=None, **data) -> Endpoint:
    previous = _apply(endpoint, ENDPOINT_FIELDS, data)
    if previous:
        _save(endpoint)
        bump_catalog_version()
        _audit_update("endpoint.updated", endpoint, actor, previous)
    return endpoint


def disable_endpoint(endpoint: Endpoint, *, actor=None) -> Endpoint:
    """Stop routing to an endpoint; it stays browsable and its prices stay billable."""
    return update_endpoint(endpoint, status=Status.DISABLED, actor=actor)


def _price_values(price: Price) -> dict[str, Any]:
    return _values(price, (*Price.NANOS_FIELDS, "effective_from", "source", "source_date"))


def _insert_price(endpoint: Endpoint, data: dict[str, Any]) -> Price:
    effective_from = data.get("effective_from") or timezone.now()
    if Price.objects.filter(endpoint=endpoint, effective_from__gte=effective_from).exists():
        raise Conflict("A price version at or after this effective_from already exists.")
    price = Price(endpoint=endpoint, effective_from=effective_from)
    for name in (*Price.NANOS_FIELDS, "source", "source_date"):
        if name in data and data[name] is not None:
            value = data[name]
            if name in Price.NANOS_FIELDS and (type(value) is not int or value < 0):
                raise InvalidRequest(f"{name} must be a non-negative integer.", param=name)
            setattr(price, name, value)
    _save(price)
    return price


@transaction.atomic
def add_price(endpoint: Endpoint, *, actor=None, **data) -> Price:
    """Add a new price version; usage already recorded keeps pointing at the old row."""
    current = (Price.objects.filter(endpoint=endpoint, effective_from__lte=timezone.now())
               .order_by("-effective_from").first())
    price = _insert_price(endpoint, data)
    bump_catalog_version()
    _audit("price.added", price, actor, target_label=str(endpoint),
           before=_price_values(current) if current is not None else None,
           after=_price_values(price))
    return price


@transaction.atomic
def replace_endpoint_health(figures: list[dict[str, Any]], computed_at) -> int:
    """Replace every endpoint's health rows with freshly computed ones.

    Health is not part of the routing snapshot, so this does not bump the catalog version.
    Each dict holds an endpoint_id, a window and the EndpointHealth figures.
    """
    known = set(Endpoint.objects.filter(
        id__in={f["endpoint_id"] for f in figures}).values_list("id", flat=True))
    EndpointHealth.objects.all().delete()
    rows = [EndpointHealth(computed_at=computed_at, **f) for f in figures
            if f["endpoint_id"] in known]
    EndpointHealth.objects.bulk_create(rows)
    return len(rows)
