"""Exact money: integer nano-USD everywhere (1 USD = 1_000_000_000 nanos). No floats, ever.

Prices are nano-USD per million tokens ($2.50/M = 2_500_000_000). A usage record's cost is
rounded half up once per record; margins and fees are basis points, rounded half up once.
"""

from __future__ import annotations

from decimal import Decimal

# The one dollars-to-nanos conversion (half up) lives in core; re-exported for billing.
from core.money_input import usd_to_nanos as usd_to_nanos

NANOS_PER_USD = 1_000_000_000
NANOS_PER_CENT = 10_000_000
TOKENS_PER_PRICE_UNIT = 1_000_000
BPS = 10_000


def usage_cost_nanos(
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    input_nanos_per_m: int,
    output_nanos_per_m: int,
    cache_read_nanos_per_m: int = 0,
    cache_write_nanos_per_m: int = 0,
    reasoning_nanos_per_m: int = 0,
    request_nanos: int = 0,
    images: int = 0,
    image_nanos: int = 0,
) -> int:
    """Cost of one usage record in nanos, rounded half up once.

    `prompt_tokens` excludes cached reads/writes (they have their own prices);
    `completion_tokens` excludes reasoning tokens when a reasoning price is set (0 means
    reasoning bills at the output price and is already inside completion_tokens).
    """
    scaled = (
        prompt_tokens * input_nanos_per_m
        + completion_tokens * output_nanos_per_m
        + cache_read_tokens * cache_read_nanos_per_m
        + cache_write_tokens * cache_write_nanos_per_m
        + reasoning_tokens * reasoning_nanos_per_m
    )
    return (scaled + TOKENS_PER_PRICE_UNIT // 2) // TOKENS_PER_PRICE_UNIT + request_nanos + (
        images * image_nanos
    )


def apply_bps(amount_nanos: int, bps: int) -> int:
    """`amount * bps / 10_000`, rounded half up (amounts are never negative here)."""
    return (amount_nanos * bps + BPS // 2) // BPS


def nanos_to_usd(nanos: int) -> Decimal:
    """Exact Decimal dollars, for JSON numbers such as `usage.cost`."""
    return Decimal(nanos) / NANOS_PER_USD


def nanos_to_cents(nanos: int) -> int:
    """Round once to the cent, half up: for Stripe amounts and printed totals."""
    sign = -1 if nanos < 0 else 1
    return sign * ((abs(nanos) + NANOS_PER_CENT // 2) // NANOS_PER_CENT)


def format_usd(nanos: int) -> str:
    cents = nanos_to_cents(nanos)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
