"""Parse untrusted money and integer inputs: one parser per kind, bounded, never a float.

Every form, serializer, query parameter and `/v1` body field that takes dollars or a bounded
integer goes through here, so `1e308`, `"NaN"`, `"Infinity"`, `"sNaN"`, `2**63` and friends
are refused the same way everywhere (as `InputError`, which callers turn into their 400).
Money comes out as integer nano-USD, rounded half up once to the nano by `core.money`'s one
conversion (ARCHITECTURE.md, "Money").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.money import dashboard_usd, usd_to_nanos

# Longer text is no amount anyone means; refusing it early keeps Decimal's work bounded.
MAX_TEXT_CHARS = 64
# "1,234.50" as people type it: commas only as thousands separators ("1,5" stays refused).
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


class InputError(ValueError):
    """An input that is not a valid value of its kind; `message` is safe to show the caller."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _decimal(raw: object, *, typed: bool, noun: str) -> Decimal:
    invalid = InputError(f"Enter {_article(noun)} {noun} in dollars, like 25.00.")
    if isinstance(raw, bool):
        raise invalid
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int | float | str):
        # A float is a JSON number: its shortest repr is the caller's decimal text, exactly.
        text = str(raw).strip()
        if typed and text.startswith("$"):
            text = text[1:].strip()
        if typed and _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        if not text or len(text) > MAX_TEXT_CHARS or not text.isascii():
            raise invalid
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise invalid from None
    else:
        raise invalid
    if not value.is_finite():  # NaN, sNaN, Infinity: no amount of money
        raise invalid
    return value


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _bound_text(value: Decimal) -> str:
    # Bounds are whole cents (a message in dashboard dollars), so rounding loses nothing.
    return "zero" if value == 0 else dashboard_usd(usd_to_nanos(value))


def parse_usd_nanos(raw: object, *, max_usd: Decimal | int, min_usd: Decimal | int = 0,
                    places: int = 9, typed: bool = True, noun: str = "amount") -> int:
    """Dollars (decimal text, a JSON number or a Decimal) as nanos within [min_usd, max_usd].

    `places` below 9 refuses finer amounts (2: whole cents); at 9, finer digits round half up
    to the nano, the project's one rounding rule. NaN, infinities and booleans are refused.
    `typed` text (forms) may start with "$" and group thousands with commas; JSON may not.
    """
    value = _decimal(raw, typed=typed, noun=noun)
    low, high = Decimal(min_usd), Decimal(max_usd)
    if value < low:
        raise InputError(f"The {noun} must be {_bound_text(low)} or more dollars."
                         if low == 0 else f"The {noun} must be at least {_bound_text(low)}.")
    if value > high:
        raise InputError(f"The {noun} must be at most {_bound_text(high)}.")
    if places < 9 and not _whole(value.scaleb(places)):
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
