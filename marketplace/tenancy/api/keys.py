"""Management API: list, create (plaintext returned once) and revoke org API keys."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.tenancy import key_services, selectors
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.models import KeyScope
from marketplace.tenancy.roles import KEY_CREATORS, KEY_VIEWERS


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scope = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    created_by_user_id = serializers.IntegerField(
        source="created_by_id", allow_null=True, help_text="The user who minted the key."
    )
    parent_key_id = serializers.IntegerField(
        allow_null=True,
        help_text="The management key that minted this key; it is revoked with that key.",
    )
    creator_removed = serializers.BooleanField(
        default=False, help_text="The user who minted the key is no longer a member."
    )

    class Meta:
        ref_name = "ApiKey"


class ApiKeyListApi(OrgScopedMixin, APIView):
    required_roles = KEY_VIEWERS

    @extend_schema(parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
                   responses=paginated(ApiKeyOutputSerializer))
    def get(self, request):
        keys = selectors.list_api_keys(self.org)
        return paginated_response(
            request=request, view=self, queryset=keys, serializer_class=ApiKeyOutputSerializer
        )


class ApiKeyCreateApi(OrgScopedMixin, APIView):
    """Mint a key. A management key may mint only inference keys (a management scope answers
    403), expiring no later than itself: its expiry by default, a later one answers 400."""

    required_roles = KEY_CREATORS

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scope = serializers.ChoiceField(choices=KeyScope.choices, default=KeyScope.INFERENCE)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

        class Meta:
            ref_name = "ApiKeyCreateInput"

    class OutputSerializer(ApiKeyOutputSerializer):
        key = serializers.CharField(help_text="The full key. Shown only in this response.")

        class Meta:
            ref_name = "ApiKeyCreated"

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER],
        request=InputSerializer,
        responses={201: OutputSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, plaintext = key_services.create_api_key(
            org=self.org, actor=self.actor, **data.validated_data
        )
        # The one response that carries the plaintext; it is never stored or logged.
        body = {**ApiKeyOutputSerializer(key).data, "key": plaintext}
        # no-store: no browser or proxy cache keeps a copy of the secret.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class ApiKeyRevokeApi(OrgScopedMixin, APIView):
    """Revoke a key and every key it minted."""

    required_roles = KEY_CREATORS

    @extend_schema(
        parameters=[ORG_HEADER_PARAMETER], request=None, responses=ApiKeyOutputSerializer
    )
    def post(self, request, key_id: int):
        key = selectors.access_api_key(self.org, key_id)
        key = key_services.revoke_api_key(org=self.org, key=key, actor=self.actor)
        return Response(ApiKeyOutputSerializer(key).data)
