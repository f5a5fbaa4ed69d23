"""allauth's account adapter: an invitee signing up from the invitation link is verified.

The invitation token was emailed to the invited address, so holding it proves control of that
mailbox; asking the invitee to confirm the same address again is a second, pointless email.
The invitation page leaves the token in a signed cookie (views/onboarding.py), read here.
"""

from allauth.account.adapter import DefaultAccountAdapter

from core.errors import InvalidRequest
from marketplace.dashboard.views.onboarding import INVITE_COOKIE
from marketplace.tenancy import selectors, services


class AccountAdapter(DefaultAccountAdapter):
    def is_email_verified(self, request, email: str) -> bool:
        """Count `email` as verified when it is the address of the pending invitation."""
        if super().is_email_verified(request, email):
            return True
        token = request.get_signed_cookie(INVITE_COOKIE, default=None)
        invitation = selectors.get_invitation_by_token(token) if token else None
        try:
            services.check_invitation(invitation)
        except InvalidRequest:
            return False
        return invitation.email.strip().lower() == (email or "").strip().lower()
