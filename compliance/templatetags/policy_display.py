"""How a stored policy value reads on the pages: lists joined, null lists "no restriction"."""

from django import template

register = template.Library()

LABELS = {
    "provider_allow": "Allowed providers",
    "provider_deny": "Denied providers",
    "model_allow": "Allowed models",
    "model_deny": "Denied models",
    "regions": "Allowed regions",
    "require_zdr": "Zero data retention required",
    "deny_training": "No providers that train on prompts",
    "fallbacks_outside_preferred": "Fallbacks may leave preferred providers",
    "content_retention_days": "Content logging",
    "allowed_models": "Allowed models",
    "allowed_providers": "Allowed providers",
    "allowed_regions": "Allowed regions",
    "rpm": "Requests per minute",
    "tpm": "Tokens per minute",
}


@register.filter
def policy_label(name: str) -> str:
    return LABELS.get(name, name)


@register.filter
def policy_value(value, name: str = "") -> str:
    if name == "content_retention_days":
        return "off (no content stored)" if value is None else f"on, kept {value} days"
    if name in ("rpm", "tpm") and value is None:
        return "operator's default"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == []:
        return "no restriction" if name not in ("provider_deny", "model_deny") else "none"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)
