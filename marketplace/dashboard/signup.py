"""The sign-up form: allauth's, but a registered email is a form error.

allauth's enumeration prevention otherwise answers a duplicate sign-up with a silent "check your
inbox". We keep that prevention for password resets and logins (settings leave
ACCOUNT_PREVENT_ENUMERATION on) and only make sign-up say plainly that the address is taken.
"""

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms


class SignupForm(AllauthSignupForm):
    def validate_unique_email(self, value) -> str:
        email = super().validate_unique_email(value)
        if self.account_already_exists:
            raise forms.ValidationError(get_adapter().error_messages["email_taken"])
        return email
