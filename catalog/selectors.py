"""Catalog reads: the routing snapshot, the catalog version, prices, and lists for pages and API.

Catalog rows are global reference data, so these selectors take no org. The listing and
filtering of the public model list lives in catalog/listing.py and is re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.listing import (  # noqa: F401  (re-exported: the page and API list selectors)
    CatalogEntry,
    CatalogFilters,
    Health,
    ModelRow,
    build_entries,
    filter_entries,
    list_model_rows,
    parse_catalog_filters,
)
from catalog.models import (
    CatalogVersion,
    Endpoint,
    EndpointHealth,
    Model,
    Price,
    Provider,
    Status,
)
from catalog.snapshot import (
    EndpointView,
    HealthView,
    ModelView,
    PriceView,
    ProviderView,
    RoutingSnapshot,
)
from core.errors import NotFound

SANDBOX_SCHEME = "sandbox://"


def get_catalog_version() -> int:
    """The catalog's change counter (0 before anything was written)."""
    version = CatalogVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return version or 0


def get_catalog_stamp() -> str:
    """The version and the time of its last bump, e.g. "42:1764124800123456": a cache key.

    Unlike the bare counter it also changes when the database is replaced (a restore, a test
    flush) and the counter starts again from the same number.
    """
    row = CatalogVersion.objects.filter(pk=1).values_list("version", "updated_at").first()
    if row is None:
        return "0:0"
    return f"{row[0]}:{int(row[1].timestamp() * 1_000_000)}"


def current_prices(at: dt.datetime | None = None,
                   endpoint_ids: Iterable[int] | None = None) -> dict[int, Price]:
    """The price version in force at `at` for each endpoint, in one query."""
    at = at or timezone.now()
    qs = Price.objects.filter(effective_from__lte=at).order_by("endpoint_id", "-effective_from")
    if endpoint_ids is not None:
        qs = qs.filter(endpoint_id__in=list(endpoint_ids))
    prices: dict[int, Price] = {}
    for price in qs:
        prices.setdefault(price.endpoint_id, price)
    return prices


def get_price(price_id: int) -> Price:
    """A price version by id (usage records point at the version they were billed at)."""
    price = Price.objects.filter(pk=price_id).first()
    if price is None:
        raise NotFound("No such price.")
    return price


def provider_available(provider: Provider) -> bool:
    """Routable now: SANDBOX routes only sandbox providers; else those with a credential."""
    return provider_routable(provider.slug, provider.status, provider.is_sandbox)


def provider_routable(slug: str, status: str, is_sandbox: bool) -> bool:
    """`provider_available` on a provider's fields (the model list's index holds no rows)."""
    if status != Status.ACTIVE:
        return False
    if settings.SANDBOX:
        return is_sandbox
    return not is_sandbox and slug in settings.PROVIDER_API_KEYS


def resolve_base_url(provider: Provider, sandbox_base_url: str | None = None) -> str:
    """`sandbox://<slug>` -> the sandbox server's prefix for that provider; others unchanged."""
    if not provider.base_url.startswith(SANDBOX_SCHEME):
        return provider.base_url
    root = (sandbox_base_url or f"http://127.0.0.1:{settings.SANDBOX_PORT}").rstrip("/")
    return f"{root}/{provider.base_url[len(SANDBOX_SCHEME):]}"


def _provider_view(provider: Provider, sandbox_base_url: str | None) -> ProviderView:
    return ProviderView(
        id=provider.id, slug=provider.slug, name=provider.name,
        wire_format=provider.wire_format,
        base_url=resolve_base_url(provider, sandbox_base_url),
        regions=tuple(provider.regions or ()), retention_days=provider.retention_days,
        trains_on_data=provider.trains_on_data, zdr=provider.zdr,
        is_sandbox=provider.is_sandbox, available=provider_available(provider),
    )


def _price_view(price: Price) -> PriceView:
    return PriceView(price_id=price.id, **price.amounts())


def _epoch(model: Model) -> int:
    if model.released_on:
        return int(dt.datetime.combine(model.released_on, dt.time(), dt.UTC).timestamp())
    return int(model.created_at.timestamp())


def build_routing_snapshot(sandbox_base_url: str | None = None, *,
                           at: dt.datetime | None = None) -> RoutingSnapshot:
    """Everything the gateway routes with, as frozen dataclasses, in three queries.

    Only endpoints with a price in force appear (an unpriced endpoint cannot be billed).
    `sandbox_base_url` overrides http://127.0.0.1:SANDBOX_PORT (tests with an OS-assigned port).
    """
    at = at or timezone.now()
    version = get_catalog_version()
    rows = list(
        Endpoint.objects.select_related("model", "provider")
        .filter(model__status=Status.ACTIVE)
        .order_by("model__slug", "provider__slug")
    )
    prices = current_prices(at)
    provider_views: dict[int, ProviderView] = {}
    by_model: dict[str, list[EndpointView]] = {}
    model_rows: dict[str, Model] = {}
    endpoints: dict[int, EndpointView] = {}
    for row in rows:
        price = prices.get(row.id)
        if price is None:
            continue
        provider = provider_views.get(row.provider_id)
        if provider is None:
            provider = provider_views[row.provider_id] = _provider_view(
                row.provider, sandbox_base_url)
        view = EndpointView(
            id=row.id, model_slug=row.model.slug, provider=provider,
            upstream_model_id=row.upstream_model_id, context_length=row.context_length,
            max_output_tokens=row.max_output_tokens, price=_price_view(price),
            quantization=row.quantization, region=row.region,
            supported_parameters=frozenset(row.supported_parameters or ()),
            input_modalities=frozenset(row.input_modalities or ("text",)),
            output_modalities=frozenset(row.output_modalities or ("text",)),
            enabled=row.status == Status.ACTIVE and row.provider.status == Status.ACTIVE,
        )
        endpoints[row.id] = view
        by_model.setdefault(row.model.slug, []).append(view)
        model_rows[row.model.slug] = row.model
    models = {}
    for slug, views in by_model.items():
        model = model_rows[slug]
        models[slug] = ModelView(
            slug=slug, name=model.name, author=model.author,
            context_length=model.context_length,
            input_modalities=frozenset(model.input_modalities or ("text",)),
            output_modalities=frozenset(model.output_modalities or ("text",)),
            supported_parameters=frozenset().union(*(v.supported_parameters for v in views)),
            endpoints=tuple(views), created_at_epoch=_epoch(model),
            description=model.description,
        )
    return RoutingSnapshot(version=str(version), models=models, endpoints=endpoints)


def get_endpoint_health(endpoint_ids: Iterable[int]) -> dict[int, dict[str, HealthView]]:
    """Health per endpoint and window ("5m", "30m", "1h", "1d"), for pages and /v1 listings."""
    result: dict[int, dict[str, HealthView]] = {}
    for row in EndpointHealth.objects.filter(endpoint_id__in=list(endpoint_ids)):
        result.setdefault(row.endpoint_id, {})[row.window] = HealthView(
            window=row.window, sample_count=row.sample_count,
            p50_latency_ms=row.p50_latency_ms, p75_latency_ms=row.p75_latency_ms,
            p90_latency_ms=row.p90_latency_ms, p99_latency_ms=row.p99_latency_ms,
            p50_ttft_ms=row.p50_ttft_ms, p99_ttft_ms=row.p99_ttft_ms,
            p50_tokens_per_s=row.p50_tokens_per_s, p75_tokens_per_s=row.p75_tokens_per_s,
            p90_tokens_per_s=row.p90_tokens_per_s, p99_tokens_per_s=row.p99_tokens_per_s,
            uptime_bps=row.uptime_bps,
            error_rate_bps=row.error_rate_bps,
        )
    return result


def get_measured_speeds() -> dict[int, Health]:
    """Every endpoint's measured p50 latency and throughput (1-hour window, else the day's).

    One query over the health rollups; endpoints with no samples in either window are absent.
    """
    by_endpoint: dict[int, dict[str, Health]] = {}
    rows = EndpointHealth.objects.filter(window__in=("1h", "1d"), sample_count__gt=0) \
        .values_list("endpoint_id", "window", "p50_latency_ms", "p50_tokens_per_s")
    for endpoint_id, window, latency, speed in rows:
        by_endpoint.setdefault(endpoint_id, {})[window] = Health(latency, speed)
    return {eid: windows.get("1h") or windows["1d"] for eid, windows in by_endpoint.items()}


def _storable(text: str | None) -> bool:
    """False for text no catalog row can hold (PostgreSQL rejects NUL; slugs are short)."""
    return text is not None and "\x00" not in text and len(text) <= 200


def get_model(slug: str) -> Model:
    """A model by canonical slug; unknown slugs raise NotFound (404 on pages and API)."""
    model = Model.objects.filter(slug=slug).first() if _storable(slug) else None
    if model is None:
        raise NotFound(f"Model {slug!r} not found.")
    return model


def list_model_endpoints(model: Model) -> list[Endpoint]:
    return list(model.endpoints.select_related("provider").order_by("provider__name"))


def list_providers() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")


def list_models() -> QuerySet[Model]:
    return Model.objects.order_by("slug")


def list_endpoints(*, model_slug: str | None = None,
                   provider_slug: str | None = None) -> QuerySet[Endpoint]:
    qs = Endpoint.objects.select_related("model", "provider").order_by("model__slug",
                                                                      "provider__slug")
    for value, field in ((model_slug, "model__slug"), (provider_slug, "provider__slug")):
        if value:
            qs = qs.filter(**{field: value}) if _storable(value) else qs.none()
    return qs


def list_prices(*, endpoint_id: int | None = None) -> QuerySet[Price]:
    qs = Price.objects.select_related("endpoint__model", "endpoint__provider").order_by(
        "endpoint_id", "-effective_from")
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    return qs


def models_granted(*, model_ids: Iterable[int], provider_ids: Iterable[int]) -> QuerySet[Model]:
    """The models among `model_ids`, and those with an active endpoint at one of
    `provider_ids` (what a vendor may promote, marketplace.listings), by slug."""
    model_ids, provider_ids = list(model_ids), list(provider_ids)
    at_provider = Endpoint.objects.filter(provider_id__in=provider_ids, status=Status.ACTIVE)
    return Model.objects.filter(
        Q(pk__in=model_ids) | Q(pk__in=at_provider.values("model_id"))
    ).order_by("slug")
