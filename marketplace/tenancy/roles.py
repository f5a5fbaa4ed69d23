"""Who may do what, by role, and the actor a service acts for.

One table of role sets so the dashboard, the management API and the services agree. Finance is
billing-only; viewers read. Management-scope keys act with admin rights (only owners and admins
can mint them, so a key never holds more than its creator could), except what would outlive
their revocation: they mint only inference keys, bound to themselves, and cannot invite members
or change roles (key_services.create_api_key, services.invite_member, services.change_role).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import Forbidden
from marketplace.tenancy.models import Role

ALL_ROLES = frozenset(Role.values)
KEY_CREATORS = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER})
MANAGEMENT_KEY_CREATORS = frozenset({Role.OWNER, Role.ADMIN})
MEMBER_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
SETTINGS_EDITORS = frozenset({Role.OWNER, Role.ADMIN})
# Whether the org is a developer, a vendor or both (issue 14) decides what it may buy and
# sell: an owner's decision, so a management key (admin rights) cannot flip it.
ORG_KIND_EDITORS = frozenset({Role.OWNER})
# A vendor org's campaigns and listing text (marketplace.listings): owners and admins.
VENDOR_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
BILLING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
# The audit log (compliance's viewer, API and export) is for owners and admins.
AUDIT_VIEWERS = frozenset({Role.OWNER, Role.ADMIN})
# Everyone but finance sees keys and members; finance sees only billing views.
KEY_VIEWERS = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.VIEWER})
# Analytics and the request log: every member reads them (developers included); their CSV
# exports are for the roles that answer for the money.
USAGE_READERS = ALL_ROLES
USAGE_EXPORTERS = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
MANAGEMENT_KEY_ROLE = Role.ADMIN


@dataclass(frozen=True)
class Actor:
    """The user (dashboard/session) or management key a service call is made for."""

    role: str
    user: Any = None  # the User, None when acting through an API key
    api_key_id: int | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def require_role(actor: Actor, roles: frozenset, message: str) -> None:
    if actor.role not in roles:
        raise Forbidden(message)


def require_user(actor: Actor, message: str) -> None:
    # Who joins an org and with which role is decided by a person: a management key that could
    # invite or promote would leave a way back in after it is revoked.
    if actor.user is None:
        raise Forbidden(message)
