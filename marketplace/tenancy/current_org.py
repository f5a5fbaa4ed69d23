"""Dashboard access: which org a signed-in user is working in, and role checks.

The current org lives in the session (switchable); a user without any org is sent to create
one. Views decorated with `org_member_required` get `request.org`, `request.membership` and
`request.actor` (the `Actor` services take).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render

from core.errors import Forbidden, NotFound
from marketplace.tenancy import selectors
from marketplace.tenancy.models import Membership, Organization
from marketplace.tenancy.roles import Actor

SESSION_ORG_KEY = "switchyard_org_id"
CREATE_ORG_URL = "/dashboard/organizations/new/"


def set_current_org(request: HttpRequest, org: Organization) -> None:
    request.session[SESSION_ORG_KEY] = org.pk


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the session's current org, falling back to the user's first org."""
    user = request.user
    if not user.is_authenticated:
        return None
    org_id = request.session.get(SESSION_ORG_KEY)
    membership = selectors.get_membership(user=user, org_id=org_id) if org_id else None
    if membership is None:
        membership = selectors.list_user_memberships(user).first()
        if membership is not None:
            request.session[SESSION_ORG_KEY] = membership.org_id
        else:
            request.session.pop(SESSION_ORG_KEY, None)
    return membership


def forbidden(request: HttpRequest, message: str = "Your role does not allow this page."):
    return render(request, "tenancy/forbidden.html", {"message": message}, status=403)


def org_member_required(roles: Iterable[str] | Callable | None = None):
    """Require a signed-in member of the current org, with one of `roles` if given.

    Usable as `@org_member_required()` or `@org_member_required(roles=BILLING_ROLES)`.
    A NotFound raised by the view (an `access_*` selector) becomes Django's 404, a Forbidden the
    403 page, so views stay free of that translation.
    """
    if callable(roles):  # used bare: @org_member_required
        return org_member_required()(roles)
    allowed = frozenset(roles) if roles is not None else None

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                return redirect(CREATE_ORG_URL)
            if allowed is not None and membership.role not in allowed:
                return forbidden(request)
            request.membership = membership
            request.org = membership.org
            request.actor = Actor(role=membership.role, user=request.user)
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(error.message) from error
            except Forbidden as error:
                return forbidden(request, error.message)

        return wrapper

    return decorator
