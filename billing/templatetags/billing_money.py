"""Template filters that show nano-USD amounts: thin registrations over `core.money`.

Templates pass whatever the context holds (None, a string from a form), hence `int(x or 0)`;
every format itself is `core.money`'s (ARCHITECTURE.md, "Money").
"""

from django import template

from core import money

register = template.Library()


@register.filter(name="usd")
def usd(nanos) -> str:
    """Rounded once to the cent: "$1,234.57", "−$1.23"."""
    return money.dashboard_usd(int(nanos or 0))


@register.filter(name="usd_exact")
def usd_exact(nanos) -> str:
    """Exact dollars to the nano, for invoices and the ledger: "$0.000001234"."""
    return money.dashboard_usd_exact(int(nanos or 0))


@register.filter(name="request_cost")
def request_cost(nanos) -> str:
    """One request's cost, six significant digits at most: "$0.00123457"."""
    return money.request_cost_usd(int(nanos or 0))


@register.filter(name="cents_usd")
def cents_usd(cents) -> str:
    """Whole cents (Stripe's unit) as dashboard dollars: 2500 -> "$25.00"."""
    return money.dashboard_usd(money.cents_to_nanos(int(cents or 0)))


@register.filter(name="usd_plain")
def usd_plain(nanos) -> str:
    """Exact dollars without the sign or separators, for form inputs: "10.5"."""
    return money.api_usd(int(nanos or 0))
