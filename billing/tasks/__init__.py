"""Billing's Celery tasks, one module per job; imported here for Celery's autodiscovery."""

from . import invoicing, posting, sponsored, sweep, topups  # noqa: F401
