"""Cross-org reads of the request records for other apps, counts and ids only.

`orgs_with_requests_to` is the conversions half of the vendor reports (marketplace.listings):
which of the orgs that clicked a sponsored listing then sent requests served by its model.
The caller shows only how many, never which (and only from a threshold up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import reduce
from operator import or_

from django.db.models import Q

from observability.models import SUCCESS, RequestRecord

# One OR of (org, window) per query stays small enough for the planner; the org-and-time index
# serves each term.
_ORGS_PER_QUERY = 200


def orgs_with_requests_to(model_slug: str, since_by_org: Mapping[int, dt.datetime], *,
                          window: dt.timedelta) -> set[int]:
    """The orgs among `since_by_org` with a successful request served by `model_slug` in
    [since, since + window) of their own `since`."""
    orgs = sorted(since_by_org)
    found: set[int] = set()
    for start in range(0, len(orgs), _ORGS_PER_QUERY):
        chunk = orgs[start:start + _ORGS_PER_QUERY]
        windows = reduce(or_, (Q(org_id=org, created_at__gte=since_by_org[org],
                                 created_at__lt=since_by_org[org] + window) for org in chunk))
        found.update(
            RequestRecord.objects.filter(windows, model_served=model_slug, outcome=SUCCESS)
            .values_list("org_id", flat=True).distinct().order_by()
        )
    return found
