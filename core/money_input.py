"""Parse untrusted money and integer inputs: one parser per kind, bounded, never a float.

Every form, serializer, query parameter and `/v1` body field that takes dollars or a bounded
integer goes through here, so `1e308`, `"NaN"`, `"Infinity"`, `"sNaN"`, `2**63` and friends
are refused the same way everywhere (as `InputError`, which callers turn into their 400).
Money comes out as integer nano-USD, rounded half up once to the nano.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NANOS_PER_USD = 1_000_000_000
# Longer text is no amount anyone means; refusing it early keeps Decimal's work bounded.
MAX_TEXT_CHARS = 64
_NANO = Decimal(1)


class InputError(ValueError):
    """An input that is not a valid value of its kind; `message` is safe to show the caller."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def usd_to_nanos(usd: Decimal | str | int) -> int:
    """Exact dollars (a Decimal or its string, never a float) to nanos, half up."""
    if isinstance(usd, float):
        raise TypeError("money is never a float")
    value = Decimal(usd) * NANOS_PER_USD
    return int(value.quantize(_NANO, rounding=ROUND_HALF_UP))


def _decimal(raw: object, *, allow_dollar_sign: bool) -> Decimal:
    if isinstance(raw, bool):
        raise InputError("Enter an amount in dollars, like 25.00.")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int | float | str):
        # A float is a JSON number: its shortest repr is the caller's decimal text, exactly.
        text = str(raw).strip()
        if allow_dollar_sign and text.startswith("$"):
            text = text[1:].strip()
        if not text or len(text) > MAX_TEXT_CHARS or not text.isascii():
            raise InputError("Enter an amount in dollars, like 25.00.")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InputError("Enter an amount in dollars, like 25.00.") from None
    else:
        raise InputError("Enter an amount in dollars, like 25.00.")
    if not value.is_finite():
        raise InputError("Enter a finite amount in dollars.")
    return value


def parse_usd_nanos(raw: object, *, max_usd: Decimal | int, min_usd: Decimal | int = 0,
                    places: int = 9, allow_dollar_sign: bool = True) -> int:
    """Dollars (decimal text, a JSON number or a Decimal) as nanos within [min_usd, max_usd].

    `places` below 9 refuses finer amounts (2: whole cents); at 9, finer digits round half up
    to the nano, the project's one rounding rule. NaN, infinities and booleans are refused.
    """
    value = _decimal(raw, allow_dollar_sign=allow_dollar_sign)
    low, high = Decimal(min_usd), Decimal(max_usd)
    if not low <= value <= high:
        raise InputError(f"Enter an amount between ${low:,f} and ${high:,f}.")
    if places < 9 and value != value.quantize(Decimal(1).scaleb(-places)):
        raise InputError("Amounts are in whole cents." if places == 2
                         else f"Amounts have at most {places} decimal places.")
    return usd_to_nanos(value)


def parse_bounded_int(raw: object, *, low: int, high: int) -> int:
    """An integer within [low, high] from an int or ASCII decimal text (query strings)."""
    if isinstance(raw, bool):
        raise InputError(f"Enter a whole number between {low} and {high}.")
    if isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        # Bounded length first: int() of a huge digit string is quadratic.
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
            raise InputError(f"Enter a whole number between {low} and {high}.")
        raw = int(text)
    if not isinstance(raw, int) or not low <= raw <= high:
        raise InputError(f"Enter a whole number between {low} and {high}.")
    return raw
