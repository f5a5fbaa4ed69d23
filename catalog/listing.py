"""The public model list: one query builds an index of every model, cached per catalog version.

Search, filters and sorting run over that index in Python: ~300 rows, so this is cheaper than a
query per filter combination. The index holds list prices only; what a viewer pays is applied
per request by a `price_of` function the page passes in (billing's margin: the catalog imports
no billing), and measured health and popularity, which change without a catalog write, are
read per request and joined here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import Model, Price, Status
from core.errors import InvalidRequest
from core.money_input import InputError, parse_bounded_int, parse_usd_nanos

CACHE_SECONDS = 300
PAGE_SIZE = 50
MODALITIES = ("text", "image", "file", "audio", "video")
CAPABILITIES = {
    "tools": "supports_tools",
    "json_schema": "supports_json_schema",
    "vision": "supports_vision",
    "reasoning": "supports_reasoning",
    "prompt_caching": "supports_prompt_caching",
}
SORTS = ("name", "price", "-price", "context", "latency", "throughput", "popularity",
         "newest")
MAX_CONTEXT = 1_000_000_000

# (list price in nanos, model slug, provider slug) -> what the viewer pays, in nanos.
PriceOf = Callable[[int, str, str], int]
# (provider slug, provider status, provider is_sandbox) -> routable here now.
RoutableOf = Callable[[str, str, bool], bool]


@dataclass(frozen=True, slots=True)
class Offer:
    """One endpoint of a model with a price in force (the routing snapshot holds the same set)."""

    endpoint_id: int
    provider_slug: str
    provider_name: str
    provider_status: str
    provider_is_sandbox: bool
    endpoint_active: bool
    input_nanos_per_m: int
    output_nanos_per_m: int

    @property
    def live(self) -> bool:
        return self.endpoint_active and self.provider_status == Status.ACTIVE


@dataclass(frozen=True, slots=True)
class ModelRow:
    slug: str
    author: str
    name: str
    description: str
    context_length: int
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    capabilities: frozenset[str]
    tags: tuple[str, ...]
    released_on: dt.date | None
    created_at: dt.datetime
    providers: tuple[tuple[str, str], ...]  # (slug, name) of live endpoints' providers
    offers: tuple[Offer, ...]

    @property
    def capability_list(self) -> list[str]:
        return sorted(self.capabilities)


@dataclass(frozen=True, slots=True)
class Health:
    """Measured speed of one endpoint: the 1-hour window, else the day's (None: unmeasured)."""

    p50_latency_ms: int | None
    p50_tokens_per_s: int | None


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A model as one viewer sees it: their prices, whether it is routable here, its speed."""

    row: ModelRow
    input_nanos_per_m: int | None
    output_nanos_per_m: int | None
    margin_bps: int | None
    routable: bool
    latency_ms: int | None
    tokens_per_s: int | None
    requests_7d: int

    def __getattr__(self, name):  # templates read the row's fields through the entry
        if name == "row":
            raise AttributeError(name)
        return getattr(self.row, name)


@dataclass(frozen=True, slots=True)
class CatalogFilters:
    q: str = ""
    provider: str = ""
    author: str = ""
    modality: str = ""
    capability: str = ""
    min_context: int = 0
    min_price_nanos_per_m: int | None = None
    max_price_nanos_per_m: int | None = None
    routable: bool = False
    sort: str = "name"


def _build_rows(now: dt.datetime) -> list[ModelRow]:
    in_force = Price.objects.filter(
        endpoint_id=OuterRef("endpoints__id"), effective_from__lte=now
    ).order_by("-effective_from")
    values = (
        Model.objects.filter(status=Status.ACTIVE)
        .annotate(
            in_nanos=Subquery(in_force.values("input_nanos_per_m")[:1]),
            out_nanos=Subquery(in_force.values("output_nanos_per_m")[:1]),
        )
        .values(
            "slug", "author", "name", "description", "context_length", "input_modalities",
            "output_modalities", "tags", "released_on", "created_at", *CAPABILITIES.values(),
            "endpoints__id", "endpoints__status", "endpoints__provider__slug",
            "endpoints__provider__name", "endpoints__provider__status",
            "endpoints__provider__is_sandbox", "in_nanos", "out_nanos",
        )
        .order_by("slug", "endpoints__id")
    )
    grouped: dict[str, tuple[dict, list[Offer]]] = {}
    for v in values:
        _, offers = grouped.setdefault(v["slug"], (v, []))
        if v["in_nanos"] is None:  # no endpoint, or none priced: the gateway cannot bill it
            continue
        offers.append(Offer(
            endpoint_id=v["endpoints__id"], provider_slug=v["endpoints__provider__slug"],
            provider_name=v["endpoints__provider__name"],
            provider_status=v["endpoints__provider__status"],
            provider_is_sandbox=bool(v["endpoints__provider__is_sandbox"]),
            endpoint_active=v["endpoints__status"] == Status.ACTIVE,
            input_nanos_per_m=v["in_nanos"], output_nanos_per_m=v["out_nanos"],
        ))
    rows = []
    for slug, (v, offers) in grouped.items():
        live = {o.provider_slug: o.provider_name for o in offers if o.live}
        rows.append(ModelRow(
            slug=slug, author=v["author"], name=v["name"], description=v["description"],
            context_length=v["context_length"],
            input_modalities=tuple(v["input_modalities"] or ()),
            output_modalities=tuple(v["output_modalities"] or ()),
            capabilities=frozenset(c for c, f in CAPABILITIES.items() if v[f]),
            tags=tuple(v["tags"] or ()), released_on=v["released_on"],
            created_at=v["created_at"], providers=tuple(sorted(live.items())),
            offers=tuple(offers),
        ))
    return rows


def list_model_rows(stamp: str | int) -> list[ModelRow]:
    """Every active model with its providers and priced endpoints; cached per catalog stamp.

    `stamp` is `get_catalog_stamp()` (or the bare version): any catalog write changes it.
    """
    key = f"catalog:model-index:{stamp}"
    rows = cache.get(key)
    if rows is None:
        rows = _build_rows(timezone.now())
        cache.set(key, rows, CACHE_SECONDS)
    return rows


def top_offer(offers: tuple[Offer, ...], routable: Callable[[Offer], bool]) -> Offer | None:
    """The endpoint whose price `/v1/models` lists: `catalog.openrouter.top_endpoint`'s rule.

    The cheapest routable endpoint (input + output list price, then id), else the cheapest.
    """
    if not offers:
        return None
    pool = [o for o in offers if routable(o)] or list(offers)
    return min(pool, key=lambda o: (o.input_nanos_per_m + o.output_nanos_per_m, o.endpoint_id))


def build_entries(rows: list[ModelRow], *, price_of: PriceOf, routable_of: RoutableOf,
                  margin_of: Callable[[str, str], int],
                  health: Mapping[int, Health], popularity: Mapping[str, int]
                  ) -> list[CatalogEntry]:
    """The index as one viewer sees it (prices through `price_of`, live health, popularity)."""
    entries = []
    for row in rows:
        def routable(o: Offer) -> bool:
            return o.live and routable_of(o.provider_slug, o.provider_status,
                                          o.provider_is_sandbox)

        top = top_offer(row.offers, routable)
        measured = [health[o.endpoint_id] for o in row.offers
                    if o.live and o.endpoint_id in health]
        latencies = [h.p50_latency_ms for h in measured if h.p50_latency_ms is not None]
        speeds = [h.p50_tokens_per_s for h in measured if h.p50_tokens_per_s is not None]
        entries.append(CatalogEntry(
            row=row,
            input_nanos_per_m=price_of(top.input_nanos_per_m, row.slug, top.provider_slug)
            if top else None,
            output_nanos_per_m=price_of(top.output_nanos_per_m, row.slug, top.provider_slug)
            if top else None,
            margin_bps=margin_of(row.slug, top.provider_slug) if top else None,
            routable=any(routable(o) for o in row.offers),
            latency_ms=min(latencies, default=None), tokens_per_s=max(speeds, default=None),
            requests_7d=popularity.get(row.slug, 0),
        ))
    return entries


def _price_filter(raw: str, param: str) -> int | None:
    if raw == "":
        return None
    try:
        return parse_usd_nanos(raw, max_usd=1_000_000, noun=param)
    except InputError as exc:
        raise InvalidRequest(f"{param}: {exc.message} (USD per million tokens)",
                             param=param) from None


def parse_catalog_filters(params) -> CatalogFilters:
    """Filters from query parameters; a malformed value raises InvalidRequest (a 400)."""

    def get(name: str) -> str:
        return (params.get(name) or "").strip()

    modality, capability, sort = get("modality"), get("capability"), get("sort") or "name"
    if modality and modality not in MODALITIES:
        raise InvalidRequest(f"modality must be one of {', '.join(MODALITIES)}.",
                             param="modality")
    if capability and capability not in CAPABILITIES:
        raise InvalidRequest(f"capability must be one of {', '.join(CAPABILITIES)}.",
                             param="capability")
    if sort not in SORTS:
        raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}.", param="sort")
    raw_context = get("min_context")
    try:
        min_context = parse_bounded_int(raw_context, low=0, high=MAX_CONTEXT) if raw_context \
            else 0
    except InputError:
        raise InvalidRequest("min_context must be a whole number of tokens.",
                             param="min_context") from None
    q = get("q")
    if len(q) > 200:
        raise InvalidRequest("q is at most 200 characters.", param="q")
    routable = get("routable")
    if routable not in ("", "1"):
        raise InvalidRequest("routable is 1 or absent.", param="routable")
    return CatalogFilters(
        q=q, provider=get("provider")[:60], author=get("author")[:80], modality=modality,
        capability=capability, min_context=min_context,
        min_price_nanos_per_m=_price_filter(get("min_price"), "min_price"),
        max_price_nanos_per_m=_price_filter(get("max_price"), "max_price"),
        routable=routable == "1", sort=sort,
    )


def _sort_key(sort: str):
    """Missing figures (no price, not measured) sort last whatever the direction."""
    if sort == "price":
        return lambda e: (e.input_nanos_per_m is None, e.input_nanos_per_m or 0, e.slug)
    if sort == "-price":
        return lambda e: (e.input_nanos_per_m is None, -(e.input_nanos_per_m or 0), e.slug)
    if sort == "context":
        return lambda e: (-e.context_length, e.slug)
    if sort == "latency":
        return lambda e: (e.latency_ms is None, e.latency_ms or 0, e.slug)
    if sort == "throughput":
        return lambda e: (e.tokens_per_s is None, -(e.tokens_per_s or 0), e.slug)
    if sort == "popularity":
        return lambda e: (-e.requests_7d, e.name.lower(), e.slug)
    if sort == "newest":
        return lambda e: (-(e.released_on.toordinal() if e.released_on else 0),
                          -e.created_at.timestamp(), e.slug)
    return lambda e: (e.name.lower() if e.name else "\U0010ffff", e.slug)


def filter_entries(entries: list[CatalogEntry], filters: CatalogFilters) -> list[CatalogEntry]:
    """Search, filter and sort; prices compare with what the viewer pays (the shown price)."""
    q = filters.q.lower()
    out = []
    for entry in entries:
        row = entry.row
        if q and q not in row.slug.lower() and q not in row.name.lower() \
                and q not in row.description.lower():
            continue
        if filters.provider and filters.provider not in dict(row.providers):
            continue
        if filters.author and row.author != filters.author:
            continue
        if filters.modality and filters.modality not in row.input_modalities:
            continue
        if filters.capability and filters.capability not in row.capabilities:
            continue
        if row.context_length < filters.min_context:
            continue
        if filters.routable and not entry.routable:
            continue
        price = entry.input_nanos_per_m
        if filters.min_price_nanos_per_m is not None and (
                price is None or price < filters.min_price_nanos_per_m):
            continue
        if filters.max_price_nanos_per_m is not None and (
                price is None or price > filters.max_price_nanos_per_m):
            continue
        out.append(entry)
    out.sort(key=_sort_key(filters.sort))
    return out
