"""Organizations, memberships with roles, invitations and org API keys.

Every tenant row in the project carries an `org` foreign key to `Organization`; a meta-test
enforces it (tests/tenancy/test_tenant_models.py).
"""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"
    FINANCE = "finance", "Finance"
    VIEWER = "viewer", "Viewer"


class OrgKind(models.TextChoices):
    """What an org does here: calls models (developer), sells attention for its models
    (vendor: sponsored listings, issue 14), or both."""

    DEVELOPER = "developer", "Developer"
    VENDOR = "vendor", "Vendor"
    BOTH = "both", "Developer and vendor"


class Organization(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=OrgKind.choices, default=OrgKind.DEVELOPER)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Billing details printed on invoices.
    legal_name = models.CharField(max_length=200, blank=True)
    billing_address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=64, blank=True)
    billing_email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_vendor(self) -> bool:
        return self.kind in (OrgKind.VENDOR, OrgKind.BOTH)


class Membership(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DEVELOPER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="membership_unique_org_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.org_id} as {self.role}"


class Invitation(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DEVELOPER)
    # sha256 of the emailed token; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.org_id}"


class KeyScope(models.TextChoices):
    INFERENCE = "inference", "Inference (/v1)"
    MANAGEMENT = "management", "Management (/api/v1/)"


class ApiKey(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    # Shown in lists ("sk-sy-ab12cd34"); the full key is shown once and never stored.
    prefix = models.CharField(max_length=24, db_index=True)
    # HMAC-SHA256 of the full key under settings.API_KEY_HASH_SECRET, hex.
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=16, choices=KeyScope.choices, default=KeyScope.INFERENCE)
    # Who minted the key: a user (dashboard or session API), or a management key (`parent_key`).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A key minted by a key is revoked with it and never expires after it. RESTRICT, not
    # CASCADE: deleting a parent row must not silently drop the child's audit trail, while
    # deleting the whole org (which cascades to both) still works.
    parent_key = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(models.Model):
    """One audited action; append-only. Written by `audit.record_audit` inside the transaction
    of the change it records, so an action that rolls back leaves no entry."""

    # NULL for platform-wide actions by staff (catalog and default margin changes). PROTECT:
    # the log outlives what it records; an org with entries is not deleted (its ledger rows
    # already forbid it), and PostgreSQL refuses deleting entries (migration 0004).
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, related_name="audit_entries"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Who, as shown: an email, a key prefix, or "system"; kept when the user or key is gone.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64)  # dotted: "policy.updated", "api_key.created"
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"], name="audit_org_created"),
            models.Index(fields=["org", "action", "-created_at"], name="audit_org_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label}"
