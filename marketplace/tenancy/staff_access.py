"""Staff access: staff sign in through allauth and prove a second factor before staff pages.

Django admin's own login form takes a password alone and is not throttled, so `/admin/login/`
only forwards to allauth's login (password, then TOTP, with allauth's rate limits). A staff
user must have an authenticator enrolled, and the session must have passed it (allauth
records each authentication step in the session), before the admin or a staff-only API
answers: `StaffMfaMiddleware` guards the admin; staff pages outside it (the provider-health
page) use the `staff_page` decorator, which answers the same way; staff-only API permissions
call `mfa_problem` and answer 403 with its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

# Recovery codes back up a second factor; alone they are not one.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


@dataclass(frozen=True)
class MfaProblem:
    """Why a staff user may not use staff pages yet, and the allauth page that fixes it."""

    code: str
    message: str
    url_name: str


NOT_ENROLLED = MfaProblem(
    "mfa_not_enrolled",
    "Staff accounts need two-factor authentication: activate an authenticator app, "
    "then open the staff pages again.",
    "mfa_activate_totp",
)
NOT_VERIFIED = MfaProblem(
    "mfa_not_verified",
    "This session has not passed your second factor: enter a code from your authenticator "
    "app to continue.",
    "mfa_reauthenticate",
)


def mfa_problem(request: HttpRequest, user) -> MfaProblem | None:
    """Say what the signed-in `user` lacks for staff pages: an authenticator, or its use here."""
    if not Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists():
        return NOT_ENROLLED
    records = get_authentication_records(request, user)
    if not any(record.get("method") == "mfa" for record in records):
        return NOT_VERIFIED
    return None


def admin_login(request: HttpRequest) -> HttpResponse:
    """Forward to allauth's login, keeping `next`; never take a password here."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("admin:index")
    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
    if user.is_active and user.is_staff:
        return redirect(next_url)
    # The admin sends signed-in non-staff here; forwarding them to the login would loop.
    raise PermissionDenied("The admin is for staff.")


class StaffMfaMiddleware:
    """Send staff without a second factor (enrolled, and passed this session) away from admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.app_name != "admin" or match.url_name == "logout":
            return None
        user = request.user
        if not (user.is_active and user.is_staff):
            return None  # the admin itself refuses them
        problem = mfa_problem(request, user)
        if problem is None:
            return None
        messages.warning(request, problem.message)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse(problem.url_name)}?{query}")



def staff_page(view):
    """Guard a staff page outside the admin exactly as the admin is guarded.

    Anonymous users go to the login, signed-in non-staff get 403, and staff without a second
    factor (enrolled, and passed this session) go to the allauth page that fixes it.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('account_login')}?{query}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("This page is for staff.")
        problem = mfa_problem(request, user)
        if problem is not None:
            messages.warning(request, problem.message)
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(problem.url_name)}?{query}")
        return view(request, *args, **kwargs)

    return guarded
