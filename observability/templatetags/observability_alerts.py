"""The dashboard's alert banner (templates/base.html): the current org's open alerts, one
indexed query cached briefly (observability.alerts.selectors.list_open_alerts)."""

from django import template

from observability.alerts.selectors import list_open_alerts

register = template.Library()


@register.simple_tag
def open_alerts(membership) -> list[dict]:
    """The open alerts of the membership's org, oldest first ([] without a membership)."""
    if membership is None:
        return []
    return list_open_alerts(membership.org_id, org_created_at=membership.org.created_at)
