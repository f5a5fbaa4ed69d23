"""Tell every gateway process that an org's compliance rules changed (best effort).

Published after the change commits; each gateway drops the org's cached callers at once and
reloads their rules on the next request. Without Redis (or while it is down) the gateway's key
cache TTL (at most 1 s) still bounds how late a change lands, as for key revocation.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core.breaker import Breaker
from marketplace.tenancy import broadcast

logger = logging.getLogger(__name__)

COMPLIANCE_CHANGED_CHANNEL = "switchyard:compliance:changed"
# Process-wide on purpose, as tenancy's revocation breaker: changes are rare, never hot.
_PUBLISH_BREAKER = Breaker("compliance change publish", logger)


def announce_change(org_id: int) -> None:
    """Publish `org_id` on COMPLIANCE_CHANGED_CHANNEL once the current transaction commits."""
    transaction.on_commit(lambda: _publish(org_id))


def _publish(org_id: int) -> None:
    broadcast.publish(COMPLIANCE_CHANGED_CHANNEL, [str(org_id)], _PUBLISH_BREAKER)
