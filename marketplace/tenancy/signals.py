"""Signals tenancy sends, so apps above it react to tenancy events without tenancy importing them.

tenancy is the bottom app (ARCHITECTURE.md, "tenancy imports no other app"): it cannot call
billing when an organization is born, so it announces the birth and billing listens.
"""

from django.dispatch import Signal

# Sent inside create_organization's transaction with `org` and `owner` (the creating user), so a
# receiver's writes commit or roll back with the organization; a receiver that raises aborts it.
organization_created = Signal()
