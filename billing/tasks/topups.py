"""Auto top-up: fire armed auto top-ups whose wallet fell below the threshold."""

from celery import shared_task

from billing.services.topups import run_auto_top_ups


@shared_task(name="billing.tasks.topups.run_auto_top_ups", acks_late=True)
def auto_top_up() -> int:
    """Create at most one off-session PaymentIntent per org per threshold crossing."""
    return run_auto_top_ups()
