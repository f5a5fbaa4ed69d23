"""Billing's Celery tasks, one module per job; imported here so Celery's autodiscovery finds them."""

from . import invoicing, posting, sweep, topups  # noqa: F401
