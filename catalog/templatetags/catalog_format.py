"""Display helpers for catalog pages: exact dollars from integer nanos, never via floats."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def usd_per_m(nanos_per_m):
    """2_500_000_000 nano-USD per million tokens -> "$2.50" (exact; more digits when needed)."""
    if nanos_per_m is None:
        return "—"
    value = Decimal(int(nanos_per_m)).scaleb(-9)
    text = format(value.normalize(), "f") if value else "0"
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


@register.filter
def tokens(count):
    """131072 -> "131K", 1048576 -> "1.05M" (display only)."""
    if not count:
        return "—"
    count = int(count)
    if count >= 1_000_000:
        return f"{Decimal(count).scaleb(-6).quantize(Decimal('0.01')).normalize():f}M"
    if count >= 1_000:
        return f"{count // 1000}K"
    return str(count)


@register.filter
def bps_percent(bps):
    """9_950 basis points -> "99.50%"."""
    if bps is None:
        return "—"
    return f"{Decimal(int(bps)).scaleb(-2):.2f}%"
