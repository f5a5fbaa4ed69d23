"""Display helpers for catalog pages: exact dollars from integer nanos, never via floats.

Money formats are `core.money`'s (ARCHITECTURE.md, "Money"); these filters only register them.
"""

from decimal import Decimal

from django import template

from core.money import dashboard_usd_per_m

register = template.Library()


@register.filter
def usd_per_m(nanos_per_m):
    """2_500_000_000 nano-USD per million tokens -> "$2.50" (exact; more digits when needed)."""
    if nanos_per_m is None:
        return "—"
    return dashboard_usd_per_m(int(nanos_per_m))


@register.filter
def tokens(count):
    """131072 -> "131K", 1048576 -> "1.05M" (display only; hundredths of a million, half up)."""
    if not count:
        return "—"
    count = int(count)
    if count >= 1_000_000:
        whole, hundredths = divmod((count + 5_000) // 10_000, 100)
        return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") + "M"
    if count >= 1_000:
        return f"{count // 1000}K"
    return str(count)


@register.filter
def bps_percent(bps):
    """9_950 basis points -> "99.50%"."""
    if bps is None:
        return "—"
    return f"{Decimal(int(bps)).scaleb(-2):.2f}%"
