"""Management API: list pending invitations, invite, revoke, and accept by token."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden
from marketplace.tenancy import selectors, services
from marketplace.tenancy.api.base import (
    ORG_HEADER_PARAMETER,
    AuthenticatedApiMixin,
    OrgScopedMixin,
)
from marketplace.tenancy.api.members import MemberOutputSerializer
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import MEMBER_MANAGERS


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Invitation"


class InvitationListApi(OrgScopedMixin, APIView):
    required_roles = MEMBER_MANAGERS

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
        responses=paginated(InvitationOutputSerializer),
    )
    def get(self, request):
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.list_pending_invitations(self.org),
            serializer_class=InvitationOutputSerializer,
        )


class InvitationCreateApi(OrgScopedMixin, APIView):
    """Invite by email; the single-use link is emailed, never returned.

    A signed-in user only: API keys get 403, so a key cannot bring anyone into the org.
    """

    required_roles = MEMBER_MANAGERS

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Role.choices, default=Role.DEVELOPER)

        class Meta:
            ref_name = "InvitationCreateInput"

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER],
        request=InputSerializer,
        responses={201: InvitationOutputSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = services.invite_member(
            org=self.org, actor=self.actor, **data.validated_data
        )
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationRevokeApi(OrgScopedMixin, APIView):
    required_roles = MEMBER_MANAGERS

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER], request=None, responses=InvitationOutputSerializer
    )
    def post(self, request, invitation_id: int):
        invitation = selectors.access_invitation(self.org, invitation_id)
        invitation = services.revoke_invitation(
            org=self.org, invitation=invitation, actor=self.actor
        )
        return Response(InvitationOutputSerializer(invitation).data)


class InvitationAcceptApi(AuthenticatedApiMixin, APIView):
    """Join an organization with an invitation token, as the signed-in user.

    The user's verified email must be the invited address (403 otherwise, nothing changes).
    """

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=200)

        class Meta:
            ref_name = "InvitationAcceptInput"

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request):
        if self.key_auth is not None:
            raise Forbidden("Invitations are accepted by a signed-in user, not an API key.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.accept_invitation(
            token=data.validated_data["token"], user=request.user
        )
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)
