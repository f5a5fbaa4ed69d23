"""The public model list: one query builds an index of every model, cached per catalog version.

Search, filters and sorting run over that index in Python: ~300 rows, so this is cheaper than a
query per filter combination, and the page costs one query (the version) when the cache is warm
and two when it is cold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import Model, Price, Status
from core.errors import InvalidRequest
from core.money_input import InputError, parse_bounded_int, parse_usd_nanos

CACHE_SECONDS = 300
MODALITIES = ("text", "image", "file", "audio", "video")
CAPABILITIES = {
    "tools": "supports_tools",
    "json_schema": "supports_json_schema",
    "vision": "supports_vision",
    "reasoning": "supports_reasoning",
    "prompt_caching": "supports_prompt_caching",
}
SORTS = ("name", "price", "-price", "context", "newest")
MAX_CONTEXT = 1_000_000_000


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
    providers: tuple[tuple[str, str], ...]  # (slug, name) of active endpoints' providers
    min_input_nanos_per_m: int | None
    min_output_nanos_per_m: int | None
    has_sandbox: bool

    @property
    def capability_list(self) -> list[str]:
        return sorted(self.capabilities)


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
            "endpoints__status", "endpoints__provider__slug", "endpoints__provider__name",
            "endpoints__provider__status", "endpoints__provider__is_sandbox",
            "in_nanos", "out_nanos",
        )
        .order_by("slug")
    )
    grouped: dict[str, dict] = {}
    for v in values:
        entry = grouped.setdefault(v["slug"], {"v": v, "prov": {}, "ins": [], "outs": [],
                                               "sandbox": False})
        live = (v["endpoints__status"] == Status.ACTIVE
                and v["endpoints__provider__status"] == Status.ACTIVE
                and v["in_nanos"] is not None)
        if live:
            entry["prov"][v["endpoints__provider__slug"]] = v["endpoints__provider__name"]
            entry["ins"].append(v["in_nanos"])
            entry["outs"].append(v["out_nanos"])
            entry["sandbox"] |= bool(v["endpoints__provider__is_sandbox"])
    rows = []
    for slug, entry in grouped.items():
        v = entry["v"]
        rows.append(ModelRow(
            slug=slug, author=v["author"], name=v["name"], description=v["description"],
            context_length=v["context_length"],
            input_modalities=tuple(v["input_modalities"] or ()),
            output_modalities=tuple(v["output_modalities"] or ()),
            capabilities=frozenset(c for c, f in CAPABILITIES.items() if v[f]),
            tags=tuple(v["tags"] or ()), released_on=v["released_on"],
            created_at=v["created_at"], providers=tuple(sorted(entry["prov"].items())),
            min_input_nanos_per_m=min(entry["ins"], default=None),
            min_output_nanos_per_m=min(entry["outs"], default=None),
            has_sandbox=entry["sandbox"],
        ))
    return rows


def list_model_rows(stamp: str | int) -> list[ModelRow]:
    """Every active model with its providers and cheapest prices; cached per catalog stamp.

    `stamp` is `get_catalog_stamp()` (or the bare version): any catalog write changes it.
    """
    key = f"catalog:model-rows:{stamp}"
    rows = cache.get(key)
    if rows is None:
        rows = _build_rows(timezone.now())
        cache.set(key, rows, CACHE_SECONDS)
    return rows


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
    return CatalogFilters(
        q=q, provider=get("provider")[:60], author=get("author")[:80], modality=modality,
        capability=capability, min_context=min_context,
        min_price_nanos_per_m=_price_filter(get("min_price"), "min_price"),
        max_price_nanos_per_m=_price_filter(get("max_price"), "max_price"),
        sort=sort,
    )


def _sort_key(sort: str):
    far = 10**30
    if sort == "price":
        return lambda r: (r.min_input_nanos_per_m is None, r.min_input_nanos_per_m or 0, r.slug)
    if sort == "-price":
        return lambda r: (r.min_input_nanos_per_m is None, -(r.min_input_nanos_per_m or 0),
                          r.slug)
    if sort == "context":
        return lambda r: (-r.context_length, r.slug)
    if sort == "newest":
        return lambda r: (-(r.released_on.toordinal() if r.released_on else 0),
                          -r.created_at.timestamp(), r.slug)
    return lambda r: (r.name.lower() if r.name else far, r.slug)


def filter_model_rows(rows: list[ModelRow], filters: CatalogFilters) -> list[ModelRow]:
    """Search, filter and sort the index; unknown provider or author give an empty list."""
    q = filters.q.lower()
    out = []
    for row in rows:
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
        price = row.min_input_nanos_per_m
        if filters.min_price_nanos_per_m is not None and (
                price is None or price < filters.min_price_nanos_per_m):
            continue
        if filters.max_price_nanos_per_m is not None and (
                price is None or price > filters.max_price_nanos_per_m):
            continue
        out.append(row)
    out.sort(key=_sort_key(filters.sort))
    return out
