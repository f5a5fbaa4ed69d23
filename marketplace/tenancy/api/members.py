"""Management API: list members, change a member's role, remove a member."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.tenancy import selectors, services
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import KEY_VIEWERS, MEMBER_MANAGERS


class MemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    role = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Member"


class MemberListApi(OrgScopedMixin, APIView):
    required_roles = KEY_VIEWERS

    @extend_schema(parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
                   responses=paginated(MemberOutputSerializer))
    def get(self, request):
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.list_members(self.org),
            serializer_class=MemberOutputSerializer,
        )


class MemberUpdateApi(OrgScopedMixin, APIView):
    """Change a member's role (a signed-in user only: API keys get 403)."""

    required_roles = MEMBER_MANAGERS

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

        class Meta:
            ref_name = "MemberUpdateInput"

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER], request=InputSerializer, responses=MemberOutputSerializer
    )
    def post(self, request, member_id: int):
        membership = selectors.access_member(self.org, member_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.change_role(
            org=self.org, membership=membership, actor=self.actor, **data.validated_data
        )
        return Response(MemberOutputSerializer(membership).data)


class MemberRemoveApi(OrgScopedMixin, APIView):
    """Remove a member; any member may remove themselves (leave). The last owner cannot.

    With `revoke_keys`, the member's working keys (and the keys those minted) are revoked too.
    """

    class InputSerializer(serializers.Serializer):
        revoke_keys = serializers.BooleanField(
            default=False, help_text="Also revoke the keys this member created."
        )

        class Meta:
            ref_name = "MemberRemoveInput"

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER], request=InputSerializer, responses={204: None}
    )
    def post(self, request, member_id: int):
        membership = selectors.access_member(self.org, member_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.remove_member(
            org=self.org, membership=membership, actor=self.actor, **data.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
