"""How much each model is used, across all orgs: the public catalog's "popularity".

Counts only, never an org or an amount, so the public pages may show them. Until the
intelligence issue's rankings exist, popularity is requests over the last 7 days.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from billing.models import UsageRecord

POPULARITY_WINDOW = dt.timedelta(days=7)


def count_requests_by_model(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Requests per model over the last 7 days, in one grouped query.

    A request counts for the model that served it, or the one asked for when none did.
    """
    since = (now or timezone.now()) - POPULARITY_WINDOW
    rows = (
        UsageRecord.objects.filter(created_at__gte=since)
        .annotate(model=Coalesce(NullIf(F("served_model"), Value("")), F("requested_model")))
        .values("model")
        .annotate(n=Count("id"))
        .values_list("model", "n")
        .order_by()
    )
    return dict(rows)
