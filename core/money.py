"""Exact money: integer nano-USD everywhere (1 USD = 1_000_000_000 nanos). No floats, ever.

The one money module (ARCHITECTURE.md, "Money"): the constant, the one dollars-to-nanos
conversion (half up), the cost and margin arithmetic, and one formatter per presentation.
Untrusted input is parsed by `core.money_input`, which converts through `usd_to_nanos` here.

Prices are nano-USD per million tokens ($2.50/M = 2_500_000_000). A usage record's cost is
rounded half up once per record; margins and fees are basis points, rounded half up once.

Presentations:
- API strings (`api_usd`, `api_usd_per_token`): exact decimal text, trailing zeros dropped,
  ASCII minus; what OpenRouter-shaped JSON carries and what a form input shows.
- Dashboard, dollars to cents (`dashboard_usd`): "$1,234.57", negatives "−$1.23" (U+2212).
- Dashboard, exact to the nano (`dashboard_usd_exact`): invoices and the ledger, which must add
  up to the nano.
- Dashboard, a price per million tokens (`dashboard_usd_per_m`): exact, at least cents.
- Per-request costs (`request_cost_usd`): at most six significant digits, trailing zeros
  dropped, never rounded coarser than whole dollars.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANOS_PER_USD = 1_000_000_000
NANOS_PER_CENT = 10_000_000
TOKENS_PER_PRICE_UNIT = 1_000_000
BPS = 10_000

_USD_PLACES = 9  # NANOS_PER_USD == 10 ** _USD_PLACES
_PER_TOKEN_PLACES = 15  # nanos per million tokens -> USD per token
_REQUEST_COST_DIGITS = 6
_MINUS = "\u2212"  # the typographic minus sign: dashboards never show a hyphen for a debit
_NANO = Decimal(1)


def usd_to_nanos(usd: Decimal | str | int) -> int:
    """Exact dollars (a Decimal or its string, never a float) to nanos, rounded half up.

    The project's one conversion: every price, limit and amount that arrives in dollars
    passes through here (untrusted input first through `core.money_input`).
    """
    if isinstance(usd, float):
        raise TypeError("money is never a float")
    value = Decimal(usd) * NANOS_PER_USD
    return int(value.quantize(_NANO, rounding=ROUND_HALF_UP))


def nanos_to_usd(nanos: int) -> Decimal:
    """Exact Decimal dollars, for arithmetic and comparisons (not for display: see below)."""
    return Decimal(nanos) / NANOS_PER_USD


def nanos_to_cents(nanos: int) -> int:
    """Round once to the cent, half up (away from zero): for Stripe amounts and totals."""
    sign = -1 if nanos < 0 else 1
    return sign * ((abs(nanos) + NANOS_PER_CENT // 2) // NANOS_PER_CENT)


def cents_to_nanos(cents: int) -> int:
    """Whole cents (Stripe's unit) as nanos: exact, no rounding."""
    return cents * NANOS_PER_CENT


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


def _digits(magnitude: int, places: int, *, grouped: bool, min_places: int = 0) -> str:
    """`magnitude / 10**places` as exact decimal text; trailing zeros dropped to `min_places`."""
    whole, frac = divmod(magnitude, 10**places)
    frac_text = f"{frac:0{places}d}".rstrip("0") if places else ""
    frac_text = frac_text.ljust(min_places, "0")
    whole_text = f"{whole:,}" if grouped else str(whole)
    return f"{whole_text}.{frac_text}" if frac_text else whole_text


def _dashboard(nanos: int, body: str) -> str:
    return f"{_MINUS if nanos < 0 else ''}${body}"


def api_usd(nanos: int) -> str:
    """Exact dollars as JSON/API text: 5_000_000 -> "0.005", 0 -> "0", -1.5 USD -> "-1.5".

    Also valid JSON number text, so the gateway embeds it unquoted (`orjson.Fragment`).
    """
    sign = "-" if nanos < 0 else ""
    return sign + _digits(abs(nanos), _USD_PLACES, grouped=False)


def api_usd_per_token(nanos_per_m: int) -> str:
    """A per-million price as exact USD per token: 150_000_000 -> "0.00000015"."""
    sign = "-" if nanos_per_m < 0 else ""
    return sign + _digits(abs(nanos_per_m), _PER_TOKEN_PLACES, grouped=False)


def dashboard_usd(nanos: int) -> str:
    """Rounded once to the cent, half up: "$1,234.57", "−$1.23", "$0.00"."""
    cents = nanos_to_cents(nanos)
    return _dashboard(cents, _digits(abs(cents), 2, grouped=True, min_places=2))


def dashboard_usd_exact(nanos: int) -> str:
    """Exact to the nano, every place shown so columns line up: "$0.000001234", "−$1.5…"."""
    return _dashboard(nanos, _digits(abs(nanos), _USD_PLACES, grouped=True,
                                     min_places=_USD_PLACES))


def dashboard_usd_per_m(nanos_per_m: int) -> str:
    """A price per million tokens, exact, at least cents: "$2.50", "$0.075", "$0.00"."""
    return _dashboard(nanos_per_m, _digits(abs(nanos_per_m), _USD_PLACES, grouped=True,
                                           min_places=2))


def request_cost_usd(nanos: int) -> str:
    """A request's cost or hold: at most six significant digits, half up, zeros dropped.

    "$0.00123457", "$0.5", "$25", "−$0.0015". Whole dollars are never rounded away (a
    wallet figure in the same sentence, "$1,234,567.89", shows as "$1,234,568").
    """
    magnitude = abs(nanos)
    drop = min(len(str(magnitude)) - _REQUEST_COST_DIGITS, _USD_PLACES)
    if drop > 0:
        unit = 10**drop
        magnitude = (magnitude + unit // 2) // unit * unit
    return _dashboard(nanos if magnitude else 0, _digits(magnitude, _USD_PLACES, grouped=True))
