"""The routing snapshot: everything the gateway needs to choose endpoints, as frozen dataclasses.

Built in one pass by `catalog.selectors.build_routing_snapshot()` and rebuilt when the catalog
changes (not on health updates). Plain data with no Django import, so the routing policy that
reads it is a pure function that can be tested and benchmarked alone.

Money is integer nano-USD; prices are nano-USD per million tokens (ARCHITECTURE.md, "Money").
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PriceView:
    price_id: int
    input_nanos_per_m: int
    output_nanos_per_m: int
    cache_read_nanos_per_m: int = 0
    cache_write_nanos_per_m: int = 0
    reasoning_nanos_per_m: int = 0  # 0 means reasoning tokens bill at the output price
    request_nanos: int = 0
    image_nanos: int = 0


@dataclass(frozen=True, slots=True)
class ProviderView:
    id: int
    slug: str
    name: str
    wire_format: str  # "openai" | "anthropic" | "gemini"
    base_url: str
    regions: tuple[str, ...] = ()
    retention_days: int | None = None  # None: unknown; 0: not retained
    trains_on_data: bool = False
    zdr: bool = False
    is_sandbox: bool = False
    available: bool = True  # False: browsable only (no credentials, or SANDBOX=1 and not sandbox)


@dataclass(frozen=True, slots=True)
class EndpointView:
    id: int
    model_slug: str
    provider: ProviderView
    upstream_model_id: str
    context_length: int
    max_output_tokens: int
    price: PriceView
    quantization: str = ""
    region: str = ""
    supported_parameters: frozenset[str] = frozenset()
    input_modalities: frozenset[str] = frozenset({"text"})
    output_modalities: frozenset[str] = frozenset({"text"})
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ModelView:
    slug: str  # canonical "author/name"
    name: str
    author: str
    context_length: int
    input_modalities: frozenset[str]
    output_modalities: frozenset[str]
    supported_parameters: frozenset[str]
    endpoints: tuple[EndpointView, ...]
    created_at_epoch: int = 0
    description: str = ""


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    version: str
    models: dict[str, ModelView] = field(default_factory=dict)
    endpoints: dict[int, EndpointView] = field(default_factory=dict)
    # Each model no endpoint of which is routable here -> a routable alternative (None: none).
    # Computed once with the snapshot so a request for such a model costs a dict lookup.
    unroutable: dict[str, str | None] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unroutable", unroutable_alternatives(self.models))

    def model(self, slug: str) -> ModelView | None:
        return self.models.get(slug)


def is_routable(endpoint: EndpointView) -> bool:
    """Enabled, and its provider is available here (catalog.selectors.provider_available)."""
    return endpoint.enabled and endpoint.provider.available


def _author(model: ModelView) -> str:
    return model.slug.partition("/")[0]


def _covers(candidate: ModelView, model: ModelView) -> bool:
    """The candidate takes every input the model takes and produces one of its outputs."""
    return (model.input_modalities <= candidate.input_modalities
            and bool(model.output_modalities & candidate.output_modalities))


def unroutable_alternatives(models: dict[str, ModelView]) -> dict[str, str | None]:
    """Each model with no routable endpoint -> the cheapest routable model that replaces it.

    Preferred, in order: the same author's and covering its modalities; the same author's; any
    covering its modalities (one with a context window at least as large first). Cheapest is
    the lowest blended list price (input + output per million tokens) of a routable endpoint.
    """
    cheapest: dict[str, int] = {}
    for slug, model in models.items():
        prices = [e.price.input_nanos_per_m + e.price.output_nanos_per_m
                  for e in model.endpoints if is_routable(e)]
        if prices:
            cheapest[slug] = min(prices)
    routable = [models[slug] for slug in sorted(cheapest)]
    by_author: dict[str, list[ModelView]] = {}
    for model in routable:
        by_author.setdefault(_author(model), []).append(model)
    out: dict[str, str | None] = {}
    for slug, model in models.items():
        if slug in cheapest:
            continue
        same = by_author.get(_author(model), [])
        pool = [m for m in same if _covers(m, model)] or same
        if pool:
            out[slug] = min(pool, key=lambda m: (cheapest[m.slug], m.slug)).slug
            continue
        pool = [m for m in routable if _covers(m, model)]
        out[slug] = min(pool, key=lambda m: (m.context_length < model.context_length,
                                             cheapest[m.slug], m.slug)).slug if pool else None
    return out


@dataclass(frozen=True, slots=True)
class HealthView:
    """An endpoint's rolled-up health over one window ("5m", "30m", "1h", "1d"); None: not measured.

    Kept out of the snapshot on purpose: health changes every minute, the snapshot only when
    the catalog does. Read it with `catalog.selectors.get_endpoint_health()`.
    """

    window: str
    sample_count: int
    p50_latency_ms: int | None = None
    p75_latency_ms: int | None = None
    p90_latency_ms: int | None = None
    p99_latency_ms: int | None = None
    p50_ttft_ms: int | None = None
    p99_ttft_ms: int | None = None
    p50_tokens_per_s: int | None = None
    p75_tokens_per_s: int | None = None  # the speed 75 % of answers beat, as OpenRouter reads it
    p90_tokens_per_s: int | None = None
    p99_tokens_per_s: int | None = None
    uptime_bps: int | None = None  # 10_000 = 100 %
    error_rate_bps: int | None = None
