"""Post settled usage to the ledger: the Celery entry point over `post_usage_records`.

Idempotent and safe to run concurrently or to kill: each record's ledger transaction and its
`posted_at` commit together, keyed by the request id (see billing/services/ledger.py).
"""

from celery import shared_task

from billing.services.ledger import post_usage_records

# Enough batches per run to drain a busy hour; the next beat run picks up the rest.
MAX_BATCHES_PER_RUN = 200


@shared_task(name="billing.tasks.posting.post_usage_to_ledger", acks_late=True)
def post_usage_to_ledger(batch_size: int = 500) -> int:
    """Post unposted usage records in batches; return how many were posted this run."""
    total = after_id = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = post_usage_records(batch_size=batch_size, after_id=after_id)
        total += batch.posted
        after_id = batch.last_id
        if batch.claimed < batch_size:
            break
    return total
