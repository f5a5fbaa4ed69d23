"""Template filters that show nano-USD amounts (cents only at display time)."""

from django import template

from billing.money import format_usd, nanos_to_usd

register = template.Library()


@register.filter
def usd(nanos) -> str:
    """Rounded once to the cent: "$1,234.57"."""
    return format_usd(int(nanos or 0))


@register.filter
def usd_exact(nanos) -> str:
    """Exact dollars to the nano: "$0.000001234"."""
    value = nanos_to_usd(int(nanos or 0))
    return f"${value:,.9f}"


@register.filter
def cents_usd(cents) -> str:
    cents = int(cents or 0)
    return f"${cents // 100:,}.{cents % 100:02d}"


@register.filter
def usd_plain(nanos) -> str:
    """Exact dollars without the sign or separators, for form inputs: "10.5"."""
    return format(nanos_to_usd(int(nanos or 0)).normalize(), "f")
