"""The costs of one request, in integer nano-USD: the admission hold and the settled charge.

Admission (ARCHITECTURE.md, "The hot path", step 5): the hold is the worst case over the
candidates at the CALLER's price (margin included): prompt upper bound (UTF-8 bytes of the
input: no token is shorter than a byte) x the dearest input price + output allowance x the
dearest output price.
The allowance is the request's `max_tokens`, else the endpoint's max output; when the wallet
grants less, each endpoint's allowance shrinks to what the grant affords, and that allowance is
what goes upstream as `max_tokens`, so a charge can never exceed its hold.
Settlement (step 7): actual cost at the snapshot's price version, margin from billing's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import InvalidRequest
from core.money import TOKENS_PER_PRICE_UNIT, apply_bps, usage_cost_nanos
from routing.gateway.seams import EndpointView, caller_price_nanos, cap_to_hold, compute_charge
from routing.types import ChatRequest, Usage


@dataclass(slots=True)
class Plan:
    """The hold to ask for and each candidate's output allowance before the grant."""

    want_nanos: int
    min_nanos: int
    allowances: dict[int, int]  # endpoint id -> output tokens


# Endpoint -> the BYOK fee (basis points) when only the org's own key can serve it (it
# always uses its key for that provider), else None: the caller then pays only that fee.
FeeBpsFor = Callable[[EndpointView], int | None]


def _no_fee(endpoint: EndpointView) -> int | None:
    return None


def _worst_prices(endpoint: EndpointView, bps: int,
                  fee_bps: int | None = None) -> tuple[int, int, int]:
    """(input, output per million, per request) at the caller's price, dearest variants.

    With `fee_bps` (a BYOK-only endpoint) the caller's price is that fee of the list price.
    """
    p = endpoint.price
    worst_in = max(p.input_nanos_per_m, p.cache_write_nanos_per_m, p.cache_read_nanos_per_m)
    worst_out = max(p.output_nanos_per_m, p.reasoning_nanos_per_m)
    if fee_bps is not None:
        return (apply_bps(worst_in, fee_bps), apply_bps(worst_out, fee_bps),
                apply_bps(p.request_nanos, fee_bps))
    return (caller_price_nanos(worst_in, bps), caller_price_nanos(worst_out, bps),
            caller_price_nanos(p.request_nanos, bps))


# Nanos added to every hold: settlement rounds cost and margin half up separately, which can
# land a nano or two above the per-million caller price this bound uses.
ROUNDING_SLACK_NANOS = 2


def _cost(prompt_tokens: int, output_tokens: int, prices: tuple[int, int, int]) -> int:
    # Ceiling division: the hold must cover the settled cost whatever its rounding.
    scaled = prompt_tokens * prices[0] + output_tokens * prices[1]
    return -(-scaled // TOKENS_PER_PRICE_UNIT) + prices[2] + ROUNDING_SLACK_NANOS


def default_allowance(endpoint: EndpointView, request: ChatRequest) -> int:
    if request.max_tokens is not None:
        return request.max_tokens
    if endpoint.max_output_tokens > 0:
        return endpoint.max_output_tokens
    return max(1, endpoint.context_length - request.prompt_upper_bytes // 4)


def plan_hold(request: ChatRequest, candidates: list[EndpointView],
              bps_for: Callable[[EndpointView], int], fee_bps_for: FeeBpsFor = _no_fee) -> Plan:
    prompt = request.prompt_upper_bytes
    want = 0
    least = None
    allowances = {}
    for endpoint in candidates:
        prices = _worst_prices(endpoint, bps_for(endpoint), fee_bps_for(endpoint))
        allowance = default_allowance(endpoint, request)
        allowances[endpoint.id] = allowance
        want = max(want, _cost(prompt, allowance, prices))
        one = _cost(prompt, 1, prices)
        least = one if least is None else min(least, one)
    least = least or 0
    if request.max_cost_nanos is not None:
        if request.max_cost_nanos < least:
            raise InvalidRequest("max_cost is below the cost of this prompt.", param="max_cost")
        want = min(want, request.max_cost_nanos)
    return Plan(want_nanos=max(want, least), min_nanos=least, allowances=allowances)


def fit_allowances(plan: Plan, request: ChatRequest, candidates: list[EndpointView],
                   granted_nanos: int, bps_for: Callable[[EndpointView], int],
                   fee_bps_for: FeeBpsFor = _no_fee
                   ) -> tuple[list[EndpointView], dict[int, int]]:
    """Shrink each allowance to what the granted hold affords; drop endpoints it cannot."""
    kept, fitted = [], {}
    prompt = request.prompt_upper_bytes
    for endpoint in candidates:
        prices = _worst_prices(endpoint, bps_for(endpoint), fee_bps_for(endpoint))
        allowance = plan.allowances[endpoint.id]
        if _cost(prompt, allowance, prices) > granted_nanos:
            spare = granted_nanos - _cost(prompt, 0, prices)
            allowance = min(allowance, spare * TOKENS_PER_PRICE_UNIT // max(prices[1], 1))
            while allowance > 0 and _cost(prompt, allowance, prices) > granted_nanos:
                allowance -= 1
        if allowance >= 1:
            kept.append(endpoint)
            fitted[endpoint.id] = allowance
    return kept, fitted


@dataclass(slots=True)
class Charge:
    upstream_cost_nanos: int
    margin_nanos: int
    byok_fee_nanos: int
    charge_nanos: int
    write_off_nanos: int
    # The upstream cost's input and output parts (each rounded once; for `cost_details`).
    upstream_prompt_nanos: int = 0
    upstream_completion_nanos: int = 0
    is_byok: bool = False  # served with the org's own key: the charge is the BYOK fee


def settle_charge(endpoint: EndpointView, usage: Usage, finish_reason: str | None, *,
                  bps: int, byok_fee_bps: int, hold_nanos: int, is_byok: bool = False
                  ) -> Charge:
    p = endpoint.price
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    reasoning_priced = p.reasoning_nanos_per_m > 0
    prompt = {
        "prompt_tokens": max(0, usage.prompt_tokens - cached),
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "input_nanos_per_m": p.input_nanos_per_m,
        "cache_read_nanos_per_m": p.cache_read_nanos_per_m or p.input_nanos_per_m,
        "cache_write_nanos_per_m": p.cache_write_nanos_per_m or p.input_nanos_per_m,
    }
    completion = {
        "completion_tokens": usage.completion_tokens - (usage.reasoning_tokens
                                                        if reasoning_priced else 0),
        "reasoning_tokens": usage.reasoning_tokens if reasoning_priced else 0,
        "output_nanos_per_m": p.output_nanos_per_m,
        "reasoning_nanos_per_m": p.reasoning_nanos_per_m,
    }
    # The record's cost rounds once over everything (core.money's one rule).
    cost = usage_cost_nanos(**prompt, **completion, request_nanos=p.request_nanos)
    # Zero-completion insurance, as OpenRouter: nothing out and an error or blank finish.
    waived = usage.completion_tokens == 0 and finish_reason in (None, "", "error")
    breakdown = compute_charge(cost, bps=bps, is_byok=is_byok, byok_fee_bps=byok_fee_bps,
                               waived=waived)
    charge, write_off = cap_to_hold(breakdown.charge_nanos, breakdown.write_off_nanos,
                                    hold_nanos)
    return Charge(breakdown.upstream_cost_nanos, breakdown.margin_nanos,
                  breakdown.byok_fee_nanos, charge, write_off,
                  usage_cost_nanos(**prompt, output_nanos_per_m=0),
                  usage_cost_nanos(**completion, input_nanos_per_m=0), is_byok)
