"""Sign-up credit: the promotional credit each new organization receives once.

One row per credited organization, naming the user it was earned by: the unique user is what
makes it "at most once per verified user" even when two organizations are created at once.
"""

from django.conf import settings
from django.db import models

from billing.models.ledger import LedgerTransaction
from marketplace.tenancy.models import Organization


class SignupCredit(models.Model):
    org = models.OneToOneField(Organization, on_delete=models.PROTECT, related_name="+")
    # Null once the user is deleted; the org keeps its credit and nobody can earn it again
    # through that org.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    amount_nanos = models.BigIntegerField()
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT,
                                       related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sign-up credit of org {self.org_id}"
