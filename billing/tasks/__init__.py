"""Billing's Celery tasks, one module per job; imported here for Celery's autodiscovery."""

from . import invoicing, posting, sweep, topups  # noqa: F401
