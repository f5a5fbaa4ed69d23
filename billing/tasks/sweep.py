"""The stale-hold sweep: settle holds whose gateway died, once their deadline has passed.

Beat runs it every minute (settings.CELERY_BEAT_SCHEDULE). It fetches ids and settles each in
its own transaction through the service, which claims the row with SKIP LOCKED: two sweeps at
once, or a sweep racing a late settlement, charge each request exactly once.
"""

from __future__ import annotations

import logging

from celery import shared_task

from billing.selectors.spend import get_margin_table, list_stale_hold_ids
from billing.services.holds import sweep_stale_hold

logger = logging.getLogger(__name__)


@shared_task(name="billing.tasks.sweep.sweep_stale_holds", ignore_result=True)
def sweep_stale_holds(batch_size: int = 500) -> int:
    """Settle every open hold past its deadline; return how many this run settled."""
    margins = get_margin_table()
    swept = 0
    while True:
        ids = list_stale_hold_ids(limit=batch_size)
        settled_now = sum(
            1 for hold_id in ids if sweep_stale_hold(hold_id, margins=margins) is not None
        )
        swept += settled_now
        # A short page, or a page another sweep took from under us: nothing more for this run.
        if len(ids) < batch_size or settled_now == 0:
            break
    if swept:
        logger.info("sweep settled %d stale holds at their prompt estimate", swept)
    return swept
