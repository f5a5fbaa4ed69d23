"""Compliance rows: org and key routing policies (versioned), BYOK provider keys (encrypted),
and request content kept only when an org turned content logging on.

A policy is never edited in place: each change inserts a new version, so the version a request
was routed under (stored on its usage record) stays readable. Lists use JSON; an empty or null
list means no restriction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Provider
from marketplace.tenancy.models import ApiKey, Organization


class OrgPolicy(models.Model):
    """One version of an org's routing policy; the org's current policy is its highest version."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    # Provider slugs; an allow list and a deny list may both be set (deny wins).
    provider_allow = models.JSONField(null=True, blank=True)
    provider_deny = models.JSONField(null=True, blank=True)
    # Canonical model slugs ("author/name").
    model_allow = models.JSONField(null=True, blank=True)
    model_deny = models.JSONField(null=True, blank=True)
    # Region codes an endpoint must run in ("eu", "us", ...).
    regions = models.JSONField(null=True, blank=True)
    require_zdr = models.BooleanField(default=False)
    deny_training = models.BooleanField(default=False)
    # False: when a request names preferred providers (`provider.order`/`only`), fallbacks may
    # not leave them.
    fallbacks_outside_preferred = models.BooleanField(default=True)
    # Content logging: None keeps no request or response content (the default).
    content_retention_days = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "version"], name="orgpolicy_unique_version"),
            models.CheckConstraint(
                condition=Q(content_retention_days__isnull=True) | Q(require_zdr=False),
                name="orgpolicy_zdr_forbids_content_logging",
            ),
        ]
        ordering = ["org", "-version"]

    def __str__(self) -> str:
        return f"policy v{self.version} of org {self.org_id}"


class KeyPolicy(models.Model):
    """One version of a key's policy: it narrows the org's, never widens it."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="key_policies")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    allowed_models = models.JSONField(null=True, blank=True)
    allowed_providers = models.JSONField(null=True, blank=True)
    allowed_regions = models.JSONField(null=True, blank=True)
    # The key's rate limits; None: the operator's default (GATEWAY_LIMIT_OVERRIDES, then the
    # gateway's defaults).
    rpm = models.PositiveIntegerField(null=True, blank=True)
    tpm = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "version"],
                                    name="keypolicy_unique_version"),
        ]
        ordering = ["api_key", "-version"]

    def __str__(self) -> str:
        return f"policy v{self.version} of key {self.api_key_id}"


class ByokKey(models.Model):
    """An org's own key for one provider, encrypted under the vault (compliance/vault.py)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="byok_keys")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    # Fernet token of the key, bound to the org (see compliance/vault.py); never shown again.
    ciphertext = models.TextField()
    last4 = models.CharField(max_length=4)
    # Empty: the provider's own base URL.
    base_url = models.CharField(max_length=300, blank=True)
    always_use = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # Set when the provider answered 401 to this key; cleared when the key is replaced.
    rejected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "provider"], name="byokkey_one_per_provider"),
        ]

    def __str__(self) -> str:
        return f"BYOK key …{self.last4} of org {self.org_id}"


class RequestContent(models.Model):
    """A request's and its answer's content, kept only under an org's content-logging policy."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE,
                            related_name="request_contents")
    request_id = models.CharField(max_length=64, unique=True)
    request = models.JSONField()
    response = models.JSONField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"content of {self.request_id}"
