"""Figures of the staff provider-health page: basis points as percentages."""

from __future__ import annotations

from django import template

register = template.Library()


def bps_percent(value: int | None) -> str:
    """10_000 basis points -> "100.00 %"; exact, no float (9_750 -> "97.50 %")."""
    if value is None:
        return "—"
    whole, frac = divmod(value, 100)
    return f"{whole}.{frac:02d} %"


register.filter("bps_percent", bps_percent)
