"""Compliance's periodic tasks (Celery; the in-process timer without a broker)."""

from celery import shared_task

from compliance.content_log import purge_expired


@shared_task(name="compliance.tasks.purge_expired_content", acks_late=True)
def purge_expired_content(batch_size: int = 1000) -> int:
    """Delete request content past its retention period (daily); return how many rows went.

    Idempotent and safe to kill or to run twice at once: each batch deletes rows by id.
    """
    return purge_expired(batch_size=batch_size)
