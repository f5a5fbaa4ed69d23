"""Margins and fees: what a caller pays over the upstream cost, in one place with one rounding.

The margin is basis points of the upstream cost (org contract > model > provider > platform
default); a BYOK request pays only the BYOK fee, basis points of the list cost, because the
caller's own provider account pays the upstream. Rounding is `core.money.apply_bps` (half
up, once per amount). No Django import: the gateway calls this on its hot path with a
`MarginTable` snapshot built by `billing.selectors.spend.get_margin_table()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.money import apply_bps

# Lookup order for one (org, model, provider): most specific first. `None` org is platform-wide.
_ORG_SCOPES = ((True, True), (True, False), (False, True), (False, False))
_PLATFORM_SCOPES = ((True, True), (True, False), (False, True))


@dataclass(frozen=True, slots=True)
class ChargeBreakdown:
    """What one request costs us and what the caller pays, in nano-USD.

    Invariant the ledger relies on: `charge + write_off == upstream + margin + byok_fee` for
    non-BYOK requests, and `charge + write_off == byok_fee` for BYOK ones (the upstream is the
    caller's own provider bill).
    """

    upstream_cost_nanos: int
    margin_nanos: int
    byok_fee_nanos: int
    charge_nanos: int
    write_off_nanos: int = 0


@dataclass(frozen=True, slots=True)
class MarginTable:
    """A frozen snapshot of the margin rules: `bps(org, model, provider)` without a query."""

    default_bps: int
    rules: dict[tuple[int | None, str, str], int] = field(default_factory=dict)
    version: str = ""
    # Orgs with any contract rule, so most lookups skip the four org-scoped probes.
    orgs_with_rules: frozenset[int] = frozenset()

    def bps(self, org_id: int | None, model_slug: str, provider_slug: str) -> int:
        rules = self.rules
        if org_id is not None and org_id in self.orgs_with_rules:
            for by_model, by_provider in _ORG_SCOPES:
                key = (org_id, model_slug if by_model else "", provider_slug if by_provider else "")
                if key in rules:
                    return rules[key]
        for by_model, by_provider in _PLATFORM_SCOPES:
            key = (None, model_slug if by_model else "", provider_slug if by_provider else "")
            if key in rules:
                return rules[key]
        return self.default_bps


def compute_charge(
    upstream_cost_nanos: int,
    *,
    bps: int,
    is_byok: bool,
    byok_fee_bps: int,
    waived: bool = False,
) -> ChargeBreakdown:
    """Split one request's upstream cost into margin or BYOK fee and the caller's charge.

    `waived` (zero output with an error finish reason) charges nothing: the upstream cost we
    owe goes to the write-off account; a BYOK upstream is not ours to write off.
    """
    if upstream_cost_nanos < 0:
        raise ValueError("upstream cost is never negative")
    if waived:
        write_off = 0 if is_byok else upstream_cost_nanos
        return ChargeBreakdown(upstream_cost_nanos, 0, 0, 0, write_off)
    if is_byok:
        fee = apply_bps(upstream_cost_nanos, byok_fee_bps)
        return ChargeBreakdown(upstream_cost_nanos, 0, fee, fee)
    margin = apply_bps(upstream_cost_nanos, bps)
    return ChargeBreakdown(upstream_cost_nanos, margin, 0, upstream_cost_nanos + margin)


def cap_to_hold(charge_nanos: int, write_off_nanos: int, hold_nanos: int) -> tuple[int, int]:
    """Never charge past the hold: the overshoot moves to the write-off, keeping the sum.

    The gateway sends the hold's output allowance upstream as `max_tokens`, so this only bites
    on a provider that overshoots; billing enforces it anyway so no wallet passes its limit.
    """
    if charge_nanos <= hold_nanos:
        return charge_nanos, write_off_nanos
    return hold_nanos, write_off_nanos + (charge_nanos - hold_nanos)


def caller_price_nanos(list_nanos: int, bps: int) -> int:
    """A list price in nanos (per million tokens, or per request/image) as the caller pays it.

    The margin is added and rounded half up once; listings, holds and `max_price` use this.
    """
    return list_nanos + apply_bps(list_nanos, bps)
