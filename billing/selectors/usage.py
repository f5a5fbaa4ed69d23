"""Usage reads for rollups outside billing (endpoint health in routing).

Cross-org on purpose: endpoint health is a property of the provider, not of a tenant, and the
rows returned carry no org, key, prompt or cost.
"""

from __future__ import annotations

from datetime import datetime

from billing.models import UsageRecord

HEALTH_FIELDS = ("endpoint_id", "created_at", "latency_ms", "ttft_ms", "completion_tokens",
                 "finish_reason", "cancelled", "streamed", "attempts")


def list_usage_for_health(since: datetime) -> list[dict]:
    """Usage since `since` with only the fields endpoint health needs, oldest first."""
    return list(
        UsageRecord.objects.filter(created_at__gte=since)
        .order_by("created_at")
        .values(*HEALTH_FIELDS)
    )
