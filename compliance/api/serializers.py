"""The policy API's bodies. A PUT takes what its GET answered: read-only fields (`version`,
`created_at`, `created_by`, `key_id`, `changed`) are ignored, and a field left out keeps its
current value (compliance/services.py)."""

from __future__ import annotations

from rest_framework import serializers

from compliance.services import MAX_KEY_RPM, MAX_KEY_TPM, MAX_LIST_ITEMS, MAX_RETENTION_DAYS
from marketplace.fields import BoundedIntSerializerField

NO_RESTRICTION = "Null or empty: no restriction."


def _names(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=200), allow_null=True, required=False,
        max_length=MAX_LIST_ITEMS, help_text=f"{help_text} {NO_RESTRICTION}")


class OrgPolicyFields(serializers.Serializer):
    provider_allow = _names("Provider slugs requests may be routed to.")
    provider_deny = _names("Provider slugs requests are never routed to.")
    model_allow = _names("Model slugs (`author/name`) the org may call.")
    model_deny = _names("Model slugs the org may not call.")
    regions = _names("Region codes an endpoint must run in, e.g. [\"eu\"].")
    require_zdr = serializers.BooleanField(
        required=False, help_text="Only providers offering zero data retention.")
    deny_training = serializers.BooleanField(
        required=False, help_text="No providers that train on prompts.")
    fallbacks_outside_preferred = serializers.BooleanField(
        required=False, help_text="Whether fallbacks may leave a request's preferred providers.")
    content_retention_days = BoundedIntSerializerField(
        low=1, high=MAX_RETENTION_DAYS, required=False, allow_null=True,
        help_text="Keep request and response content this many days; null: never stored "
        "(the default). Refused while require_zdr is on.")

    class Meta:
        ref_name = "OrgPolicyInput"


class PolicyVersionFields(serializers.Serializer):
    version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Null: no policy was ever saved.")
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_by = serializers.CharField(
        read_only=True, allow_null=True,
        help_text="Who saved this version: an email, or `key <prefix>` for a management key.")


class OrgPolicySerializer(PolicyVersionFields, OrgPolicyFields):
    class Meta:
        ref_name = "OrgPolicy"


class OrgPolicySavedSerializer(OrgPolicySerializer):
    changed = serializers.BooleanField(
        read_only=True, help_text="False: the body changed nothing, so no new version.")

    class Meta:
        ref_name = "OrgPolicySaved"


class KeyPolicyFields(serializers.Serializer):
    allowed_models = _names("Model slugs this key may call (within the org's policy).")
    allowed_providers = _names("Provider slugs this key may be routed to (within the org's).")
    allowed_regions = _names("Region codes this key's requests must run in.")
    rpm = BoundedIntSerializerField(
        low=1, high=MAX_KEY_RPM, required=False, allow_null=True,
        help_text="Requests per minute for this key; null: the operator's default.")
    tpm = BoundedIntSerializerField(
        low=1, high=MAX_KEY_TPM, required=False, allow_null=True,
        help_text="Tokens per minute for this key; null: the operator's default.")

    class Meta:
        ref_name = "KeyPolicyInput"


class KeyPolicySerializer(PolicyVersionFields, KeyPolicyFields):
    key_id = serializers.IntegerField(read_only=True)

    class Meta:
        ref_name = "KeyPolicy"


class KeyPolicySavedSerializer(KeyPolicySerializer):
    changed = serializers.BooleanField(
        read_only=True, help_text="False: the body changed nothing, so no new version.")

    class Meta:
        ref_name = "KeyPolicySaved"
