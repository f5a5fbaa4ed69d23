"""How the router orders the endpoints that survived the filters (routing/policy.py).

OpenRouter's default: healthy endpoints in weighted random order (weight 1/price^2), those with
a recent outage after them by price; or a deterministic `sort` by price, throughput or latency;
and `preferred_*` thresholds that move slow endpoints to the end. Pure, like the policy: live
health comes in through `HealthView`, randomness through `rng`.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from catalog.snapshot import EndpointView
from routing.types import ProviderPrefs


class HealthView(Protocol):
    def breaker_allows(self, endpoint_id: int) -> bool: ...
    def recent_outage(self, endpoint_id: int) -> bool: ...
    def latency_s(self, endpoint_id: int) -> float | None: ...
    def throughput(self, endpoint_id: int) -> float | None: ...


def blended(price: tuple[int, int]) -> int:
    return price[0] + price[1]


def draw_weight(price: tuple[int, int]) -> float:
    """The default ranking's weight, 1/price^2 (a free endpoint counts as a 1-nano price)."""
    blended_price = float(price[0] + price[1]) or 1.0
    return 1.0 / (blended_price * blended_price)


def weighted_order(endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
                    rng: random.Random) -> list[EndpointView]:
    """Weighted random order without replacement, weight 1/price^2 (Efraimidis-Spirakis).

    Each endpoint draws the key u^(1/w) and the keys sort descending, which samples the whole
    order in one pass with P(first) = w / sum(w) (`draw_weight`). Keys are compared as logs,
    log(u)/w = log(u) * price^2, because u^(1/w) underflows for such small weights. Free
    endpoints count as a 1-nano price: they dominate but stay comparable.
    """
    if len(endpoints) < 2:
        return list(endpoints)
    draw, log = rng.random, math.log
    keyed = []
    for endpoint in endpoints:
        prompt, completion = prices[endpoint.id]
        price = float(prompt + completion) or 1.0
        keyed.append((log(1.0 - draw()) * price * price, endpoint))
    keyed.sort(key=_first, reverse=True)
    return [endpoint for _, endpoint in keyed]


def _first(item: tuple[float, EndpointView]) -> float:
    return item[0]


def sort_key(how: str, endpoint: EndpointView, prices: dict[int, tuple[int, int]],
             health: HealthView) -> tuple[bool, float, int]:
    """The deterministic sort's key: (unmeasured, figure, id); unmeasured endpoints go last.

    The figure: the blended caller price in nanos per million tokens, tokens per second
    (negated: more first) or seconds to the first token."""
    if how == "price":
        return (False, blended(prices[endpoint.id]), endpoint.id)
    if how == "throughput":
        tps = health.throughput(endpoint.id)
        return (tps is None, -(tps or 0.0), endpoint.id)
    if how == "latency":
        latency = health.latency_s(endpoint.id)
        return (latency is None, latency or 0.0, endpoint.id)
    raise ValueError(f"Unknown sort {how!r}")


def sorted_by(how: str, endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
              health: HealthView) -> list[EndpointView]:
    if how == "price":  # the common case, without a key tuple per endpoint
        return sorted(endpoints, key=lambda e: (blended(prices[e.id]), e.id))
    return sorted(endpoints, key=lambda e: sort_key(how, e, prices, health))


def split_outages(endpoints: list[EndpointView], health: HealthView
                  ) -> tuple[list[EndpointView], list[EndpointView]]:
    """(healthy, with a recent outage): the default ranking draws the first, then the second by
    price."""
    healthy: list[EndpointView] = []
    shaky: list[EndpointView] = []
    for e in endpoints:
        (shaky if health.recent_outage(e.id) else healthy).append(e)
    return healthy, shaky


def default_order(endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
                   health: HealthView, rng: random.Random) -> list[EndpointView]:
    healthy, shaky = split_outages(endpoints, health)
    return weighted_order(healthy, prices, rng) + sorted_by("price", shaky, prices, health)


def is_slow(endpoint: EndpointView, prefs: ProviderPrefs, health: HealthView) -> bool:
    """Misses a `preferred_*` threshold on measured figures (unmeasured is not slow)."""
    if prefs.preferred_max_latency_s is not None:
        latency = health.latency_s(endpoint.id)
        if latency is not None and latency > prefs.preferred_max_latency_s:
            return True
    if prefs.preferred_min_throughput is not None:
        tps = health.throughput(endpoint.id)
        if tps is not None and tps < prefs.preferred_min_throughput:
            return True
    return False
