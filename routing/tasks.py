"""Routing's Celery tasks (the endpoint-health rollup)."""
