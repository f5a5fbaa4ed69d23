"""Celery tasks (see billing/tasks/__init__.py)."""
