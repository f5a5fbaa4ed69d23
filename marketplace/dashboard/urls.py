"""Dashboard URLs, mounted at `/`. The invitation path is fixed by tenancy.services."""

from django.urls import path

from marketplace.dashboard.views import (
    keys,
    low_balance,
    members,
    onboarding,
    org_settings,
    overview,
)

app_name = "dashboard"

urlpatterns = [
    path("", onboarding.home, name="home"),
    path("dashboard/", overview.overview, name="overview"),
    path(
        "dashboard/organizations/new/",
        onboarding.create_organization,
        name="create-organization",
    ),
    path("dashboard/switch/", onboarding.switch_organization, name="switch-organization"),
    path("dashboard/keys/", keys.keys, name="keys"),
    path("dashboard/keys/<int:key_id>/revoke/", keys.revoke_key, name="revoke-key"),
    path("dashboard/keys/<int:key_id>/", keys.key_detail, name="key-detail"),
    path("dashboard/quickstart/key/", overview.create_first_key, name="quickstart-key"),
    path("dashboard/members/", members.members, name="members"),
    path("dashboard/members/invite/", members.invite, name="invite"),
    path("dashboard/members/<int:membership_id>/role/", members.change_role, name="change-role"),
    path("dashboard/members/<int:membership_id>/remove/", members.remove, name="remove-member"),
    path(
        "dashboard/invitations/<int:invitation_id>/revoke/",
        members.revoke_invitation,
        name="revoke-invitation",
    ),
    path("dashboard/settings/", org_settings.org_settings, name="settings"),
    path("dashboard/settings/kind/", org_settings.org_kind, name="settings-kind"),
    path("dashboard/settings/low-balance/", low_balance.low_balance, name="low-balance"),
    path("invitations/<str:token>/", onboarding.invitation, name="invitation"),
]
