"""Management API URLs under `/api/v1/`: one view per operation, writes are POSTs."""

from django.urls import path

from marketplace.tenancy.api import invitations, keys, members, organizations

app_name = "tenancy-api"

urlpatterns = [
    path("organizations/", organizations.OrganizationListApi.as_view(), name="org-list"),
    path("organizations/create/", organizations.OrganizationCreateApi.as_view(), name="org-create"),
    path(
        "organizations/<int:org_id>/",
        organizations.OrganizationDetailApi.as_view(),
        name="org-detail",
    ),
    path(
        "organizations/<int:org_id>/update/",
        organizations.OrganizationUpdateApi.as_view(),
        name="org-update",
    ),
    path("members/", members.MemberListApi.as_view(), name="member-list"),
    path("members/<int:member_id>/update/", members.MemberUpdateApi.as_view(), name="member-role"),
    path("members/<int:member_id>/remove/", members.MemberRemoveApi.as_view(), name="member-rm"),
    path("invitations/", invitations.InvitationListApi.as_view(), name="invitation-list"),
    path("invitations/create/", invitations.InvitationCreateApi.as_view(), name="inv-create"),
    path("invitations/accept/", invitations.InvitationAcceptApi.as_view(), name="inv-accept"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        invitations.InvitationRevokeApi.as_view(),
        name="inv-revoke",
    ),
    path("keys/", keys.ApiKeyListApi.as_view(), name="key-list"),
    path("keys/create/", keys.ApiKeyCreateApi.as_view(), name="key-create"),
    path("keys/<int:key_id>/revoke/", keys.ApiKeyRevokeApi.as_view(), name="key-revoke"),
]
