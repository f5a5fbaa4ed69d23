"""A billing period as people read it: "Nov 1 – Nov 30, 2026" (en dash, end inclusive)."""

from datetime import UTC, datetime, timedelta

from django import template

register = template.Library()


def _day(moment: datetime, *, year: bool) -> str:
    text = f"{moment:%b} {moment.day}"
    return f"{text}, {moment.year}" if year else text


@register.simple_tag
def billing_period(start: datetime, end: datetime) -> str:
    """[start, end) in UTC, shown with its last day: the year once unless the period spans two."""
    first = start.astimezone(UTC)
    last = (end.astimezone(UTC) - timedelta(microseconds=1))
    same_year = first.year == last.year
    return f"{_day(first, year=not same_year)} \u2013 {_day(last, year=True)}"
