"""Invoice reconciliation: hourly roll-up of posted usage, and period-end finalization.

Both are idempotent and safe to kill: see billing/services/invoices.py. The roll posts any
settled usage to the ledger first, so what it invoices always has its ledger transaction.
"""

from celery import shared_task

from billing.services import invoices
from billing.services.ledger import post_usage_records
from billing.services.sponsored import post_sponsored_charges


def _post_all_usage() -> None:
    after_id = 0
    while True:
        batch = post_usage_records(after_id=after_id)
        after_id = batch.last_id
        if batch.claimed == 0:
            return


@shared_task(name="billing.tasks.invoicing.roll_usage_into_invoices", acks_late=True)
def roll_usage_into_invoices(batch_size: int = 1000) -> int:
    """Roll every posted, not yet invoiced usage record into its org's open invoice."""
    _post_all_usage()
    return invoices.roll_usage_into_invoices(batch_size=batch_size)


@shared_task(name="billing.tasks.invoicing.finalize_invoices", acks_late=True)
def finalize_invoices() -> list[int]:
    """Finalize the invoices whose billing period has ended."""
    _post_all_usage()
    # Sponsored charges too: a finalized invoice states only those already in the ledger.
    post_sponsored_charges()
    return invoices.finalize_due_invoices()
