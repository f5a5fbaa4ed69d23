"""The Django-free core every app may import: errors, money, input parsing, small helpers.

Stdlib only, no Django, nothing of ours (ARCHITECTURE.md): `core.errors` is the one error
hierarchy, `core.money` the one money module, `core.money_input` the one bounded parser.
tests/core/test_pure_imports.py checks that importing them loads no Django or Celery.
"""
