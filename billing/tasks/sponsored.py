"""Post vendors' sponsored-listing charges to the ledger: the Celery entry point over
`post_sponsored_charges`.

Idempotent and safe to run concurrently or to kill: each charge's ledger transaction and its
`posted_at` commit together (see billing/services/sponsored.py).
"""

from celery import shared_task

from billing.services.sponsored import post_sponsored_charges


@shared_task(name="billing.tasks.sponsored.post_sponsored_to_ledger", acks_late=True)
def post_sponsored_to_ledger(batch_size: int = 500) -> int:
    """Post unposted sponsored charges in batches; return how many were posted this run."""
    return post_sponsored_charges(batch_size=batch_size)
