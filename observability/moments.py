"""The one reading of a time a caller sends (analytics' and the request log's since/until)."""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_date, parse_datetime

from core.errors import InvalidRequest


def parse_moment(raw: str, name: str, *, end_of_day: bool) -> dt.datetime | None:
    """A date (its start, or with `end_of_day` the next day's start) or an ISO 8601 date and
    time (UTC when it has no offset); None for an empty value; else InvalidRequest naming
    `name`."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        # A date first: parse_datetime would also read "2026-11-02" as that day's midnight.
        day = parse_date(raw)
        moment = None if day is not None else parse_datetime(raw)
    except ValueError:  # well-formed but impossible, such as 2026-02-30
        day = moment = None
    if day is not None:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        return start + dt.timedelta(days=1) if end_of_day else start
    if moment is not None:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    raise InvalidRequest(
        f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date and time.", param=name)
