"""Navigation facts for templates/base.html: the current membership, role checks, org list.

Any page can extend base.html, including ones not behind `org_member_required` (the public
catalog), so the membership is resolved lazily here when the view did not set it.
"""

from django import template

from marketplace.tenancy import roles, selectors
from marketplace.tenancy.current_org import current_membership

register = template.Library()

_ROLE_SETS = {
    "keys": roles.KEY_VIEWERS,
    "create_keys": roles.KEY_CREATORS,
    "management_keys": roles.MANAGEMENT_KEY_CREATORS,
    "members": roles.KEY_VIEWERS,
    "manage_members": roles.MEMBER_MANAGERS,
    "settings": roles.SETTINGS_EDITORS,
    "billing": roles.BILLING_ROLES,
    "audit": roles.AUDIT_VIEWERS,
}


def _membership(request):
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return None
    if not hasattr(request, "membership"):
        request.membership = current_membership(request)
    return request.membership


@register.simple_tag
def nav_membership(request):
    """The signed-in user's membership in the current org, or None."""
    return _membership(request)


@register.simple_tag
def role_can(request, what: str) -> bool:
    """True if the current member's role allows `what` (a key of _ROLE_SETS)."""
    membership = _membership(request)
    return membership is not None and membership.role in _ROLE_SETS[what]


@register.simple_tag
def user_memberships(request):
    """All of the signed-in user's memberships, for the org switcher."""
    if request is None or not request.user.is_authenticated:
        return []
    return list(selectors.list_user_memberships(request.user))


@register.filter
def startswith(value, prefix) -> bool:
    """`{% if request.path|startswith:"/dashboard/keys/" %}` for the current-page marker."""
    return str(value).startswith(str(prefix))
