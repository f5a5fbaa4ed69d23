"""Chart data for `static/js/charts.js`, built from per-day rows: one shape for every chart.

A page puts `daily_chart(...)` in its context and renders it with Django's `json_script`; the
script draws every `<canvas data-chart="ID">` from the JSON element `ID`. Amounts travel as
exact decimal text (`api_usd`), never floats, and each point carries its dashboard label
(`request_cost_usd`), so tooltips show our formatting, not JavaScript's.

Shape: {"labels": ["2026-11-01", ...], "stacked": bool,
        "series": [{"label", "axis": "usd" | "count", "kind": "bar" | "line",
                    "values": [...], "display": [...]}]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.money import api_usd, request_cost_usd

Chart = dict[str, Any]
Row = Mapping[str, Any]
OTHER = "Other models"


def _usd_series(label: str, nanos: Sequence[int], kind: str = "bar") -> Chart:
    return {
        "label": label,
        "axis": "usd",
        "kind": kind,
        "values": [api_usd(n) for n in nanos],
        "display": [request_cost_usd(n) for n in nanos],
    }


def _count_series(label: str, counts: Sequence[int], kind: str = "line") -> Chart:
    return {
        "label": label,
        "axis": "count",
        "kind": kind,
        "values": list(counts),
        "display": [f"{n:,}" for n in counts],
    }


def spend_by_group(
    days: Sequence[dt.date], rows: Iterable[Row], *, group: str = "model", top: int = 6
) -> Chart:
    """Stacked daily spend, one series per `group` value; past the `top` spenders, one
    "Other models" series. `rows` carry `day`, `group` and `spend_nanos`."""
    index = {day: i for i, day in enumerate(days)}
    per_group: dict[str, list[int]] = {}
    for row in rows:
        i = index.get(row["day"])
        if i is None:
            continue
        values = per_group.setdefault(row[group], [0] * len(days))
        values[i] += row["spend_nanos"] or 0
    ranked = sorted(per_group.items(), key=lambda item: (-sum(item[1]), item[0]))
    series = [_usd_series(name, values) for name, values in ranked[:top]]
    if len(ranked) > top:
        rest = [sum(values[i] for _, values in ranked[top:]) for i in range(len(days))]
        series.append(_usd_series(OTHER, rest))
    return {"labels": [d.isoformat() for d in days], "stacked": True, "series": series}


def spend_and_requests(days: Sequence[dt.date], rows: Iterable[Row]) -> Chart:
    """Daily spend (bars) and requests (a line on its own axis); `rows` carry `day`,
    `spend_nanos` and `requests` (several rows for one day add up)."""
    index = {day: i for i, day in enumerate(days)}
    spend = [0] * len(days)
    requests = [0] * len(days)
    for row in rows:
        i = index.get(row["day"])
        if i is None:
            continue
        spend[i] += row["spend_nanos"] or 0
        requests[i] += row["requests"] or 0
    return {
        "labels": [d.isoformat() for d in days],
        "stacked": False,
        "series": [_usd_series("Spend", spend), _count_series("Requests", requests)],
    }


def stacked_by_group(
    labels: Sequence[str], points: Iterable[tuple[int, str, int]], *, axis: str,
    top: int = 6, other: str = "Other", count_title: str = "Requests",
    order: Sequence[str] = (),
) -> Chart:
    """A stacked bar chart over any buckets (the analytics page's hours or days): one series
    per group, past the `top` groups one `other` series. `points` are (bucket index, group,
    value): nanos when `axis` is "usd", a count when it is "count" (its axis titled
    `count_title`). Groups rank by their place in `order` (so several charts of one page keep
    one colour per group), then by their total. Labels that are ISO dates are shortened by
    charts.js; others show as given."""
    per_group: dict[str, list[int]] = {}
    for i, group, value in points:
        if 0 <= i < len(labels):
            per_group.setdefault(group, [0] * len(labels))[i] += value or 0
    place = {name: i for i, name in enumerate(order)}
    ranked = sorted(per_group.items(),
                    key=lambda item: (place.get(item[0], len(place)), -sum(item[1]), item[0]))

    def series(name: str, values: Sequence[int]) -> Chart:
        return _usd_series(name, values) if axis == "usd" else _count_series(name, values, "bar")

    result = [series(name, values) for name, values in ranked[:top]]
    if len(ranked) > top:
        result.append(series(other, [sum(v[i] for _, v in ranked[top:])
                                     for i in range(len(labels))]))
    return {"labels": list(labels), "stacked": True, "series": result,
            "count_title": count_title}
