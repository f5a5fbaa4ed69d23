"""Catalog management API: reads for any signed-in user or management key; staff curate.

One view per resource; each write parses with an input serializer, calls one service, and
answers with the output serializer. Unknown slugs and ids answer 404.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework import serializers as drf
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api import serializers as s
from catalog.models import Endpoint, Provider
from core.errors import NotFound
from marketplace.fields import query_int
from marketplace.tenancy.api.base import OrgApiKeyAuthentication
from marketplace.tenancy.api.pagination import MAX_LIMIT, MAX_OFFSET, BoundedLimitOffsetPagination
from marketplace.tenancy.models import KeyScope
from marketplace.tenancy.selectors import KeyAuth
from marketplace.tenancy.staff_access import mfa_problem


class CatalogAccess(BasePermission):
    """Reads: any signed-in user or a management-scope key. Writes: operators only.

    An operator is a staff user with the view's model permissions (the `operators` group
    grants them) who has passed a second factor in this session.
    """

    message = "Catalog changes are for staff; inference keys cannot use the management API."

    def has_permission(self, request, view):
        if isinstance(request.auth, KeyAuth) and request.auth.scope != KeyScope.MANAGEMENT:
            return False
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not getattr(user, "is_staff", False):
            return False
        problem = mfa_problem(request, user)
        if problem is not None:
            raise exceptions.PermissionDenied(problem.message, code=problem.code)
        needed = view.write_permissions.get(request.method, ())
        if not user.has_perms(needed):
            raise exceptions.PermissionDenied(
                f"Catalog changes need the operators group's permissions ({', '.join(needed)}).")
        return True


def _doc(operation_id: str, response, request=None, parameters=None):
    return extend_schema(operation_id=operation_id, request=request, responses=response,
                         parameters=parameters, tags=["catalog"])


PAGE = [
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
]


def _page(name: str, item) -> drf.Serializer:
    """The LimitOffsetPagination envelope around a list of `item`."""
    return inline_serializer(name=f"Paginated{name}List", fields={
        "count": drf.IntegerField(), "next": drf.URLField(allow_null=True),
        "previous": drf.URLField(allow_null=True), "results": item(many=True)})


class CatalogApi(APIView):
    authentication_classes = [OrgApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, CatalogAccess]
    # The Django model permissions each write method needs (Django admin checks the same).
    write_permissions: dict[str, tuple[str, ...]] = {}

    def paginate(self, request, queryset, serializer):
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer(page, many=True).data)


def _provider(slug: str) -> Provider:
    provider = selectors.list_providers().filter(slug=slug).first() if "\x00" not in slug \
        else None
    if provider is None:
        raise NotFound(f"Provider {slug!r} not found.")
    return provider


def _endpoint(endpoint_id: int) -> Endpoint:
    endpoint = selectors.list_endpoints().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Endpoint not found.")
    return endpoint


def _valid(serializer_class, data, *, partial=False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ProviderListApi(CatalogApi):
    write_permissions = {"POST": ("catalog.add_provider",)}

    @_doc("catalog_providers_list", _page("Provider", s.ProviderOut), parameters=PAGE)
    def get(self, request):
        return self.paginate(request, selectors.list_providers(), s.ProviderOut)

    @_doc("catalog_providers_create", s.ProviderOut, s.ProviderIn)
    def post(self, request):
        provider = services.create_provider(**_valid(s.ProviderIn, request.data),
                                           actor=request.user)
        return Response(s.ProviderOut(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailApi(CatalogApi):
    write_permissions = {"PATCH": ("catalog.change_provider",)}

    @_doc("catalog_providers_get", s.ProviderOut)
    def get(self, request, slug):
        return Response(s.ProviderOut(_provider(slug)).data)

    @_doc("catalog_providers_update", s.ProviderOut, s.ProviderIn)
    def patch(self, request, slug):
        provider = _provider(slug)
        data = _valid(s.ProviderIn, request.data, partial=True)
        data.pop("slug", None)
        provider = services.update_provider(provider, actor=request.user, **data)
        return Response(s.ProviderOut(provider).data)


class ModelListApi(CatalogApi):
    write_permissions = {"POST": ("catalog.add_model",)}

    @_doc("catalog_models_list", _page("Model", s.ModelOut),
          parameters=[*PAGE, OpenApiParameter("author", str)])
    def get(self, request):
        qs = selectors.list_models()
        author = request.query_params.get("author")
        if author:
            qs = qs.filter(author=author) if "\x00" not in author else qs.none()
        return self.paginate(request, qs, s.ModelOut)

    @_doc("catalog_models_create", s.ModelOut, s.ModelIn)
    def post(self, request):
        model = services.create_model(**_valid(s.ModelIn, request.data), actor=request.user)
        return Response(s.ModelOut(model).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(CatalogApi):
    write_permissions = {"PATCH": ("catalog.change_model",)}

    @_doc("catalog_models_get", s.ModelOut)
    def get(self, request, author, slug):
        return Response(s.ModelOut(selectors.get_model(f"{author}/{slug}")).data)

    @_doc("catalog_models_update", s.ModelOut, s.ModelIn)
    def patch(self, request, author, slug):
        model = selectors.get_model(f"{author}/{slug}")
        data = _valid(s.ModelIn, request.data, partial=True)
        data.pop("slug", None)
        return Response(s.ModelOut(services.update_model(model, actor=request.user, **data)).data)


class EndpointListApi(CatalogApi):
    write_permissions = {"POST": ("catalog.add_endpoint", "catalog.add_price")}

    @_doc("catalog_endpoints_list", _page("Endpoint", s.EndpointOut),
          parameters=[*PAGE, OpenApiParameter("model", str), OpenApiParameter("provider", str)])
    def get(self, request):
        qs = selectors.list_endpoints(model_slug=request.query_params.get("model"),
                                      provider_slug=request.query_params.get("provider"))
        return self.paginate(request, qs, s.EndpointOut)

    @_doc("catalog_endpoints_create", s.EndpointOut, s.EndpointIn)
    def post(self, request):
        data = _valid(s.EndpointIn, request.data)
        model = selectors.get_model(data.pop("model"))
        provider = _provider(data.pop("provider"))
        endpoint = services.create_endpoint(model=model, provider=provider,
                                            actor=request.user, **data)
        return Response(s.EndpointOut(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(CatalogApi):
    write_permissions = {"PATCH": ("catalog.change_endpoint",)}

    @_doc("catalog_endpoints_get", s.EndpointOut)
    def get(self, request, endpoint_id):
        return Response(s.EndpointOut(_endpoint(endpoint_id)).data)

    @_doc("catalog_endpoints_update", s.EndpointOut, s.EndpointUpdateIn)
    def patch(self, request, endpoint_id):
        endpoint = _endpoint(endpoint_id)
        data = _valid(s.EndpointUpdateIn, request.data, partial=True)
        endpoint = services.update_endpoint(endpoint, actor=request.user, **data)
        return Response(s.EndpointOut(endpoint).data)


class EndpointDisableApi(CatalogApi):
    write_permissions = {"POST": ("catalog.change_endpoint",)}

    @_doc("catalog_endpoints_disable", s.EndpointOut)
    def post(self, request, endpoint_id):
        endpoint = services.disable_endpoint(_endpoint(endpoint_id), actor=request.user)
        return Response(s.EndpointOut(endpoint).data)


class PriceListApi(CatalogApi):
    write_permissions = {"POST": ("catalog.add_price",)}

    @_doc("catalog_prices_list", _page("Price", s.PriceOut),
          parameters=[*PAGE, OpenApiParameter("endpoint", int)])
    def get(self, request):
        endpoint_id = query_int(request.query_params, "endpoint")
        qs = selectors.list_prices(endpoint_id=endpoint_id)
        return self.paginate(request, qs, s.PriceOut)

    @_doc("catalog_prices_create", s.PriceOut, s.NewPriceIn)
    def post(self, request):
        data = _valid(s.NewPriceIn, request.data)
        price = services.add_price(_endpoint(data.pop("endpoint")), actor=request.user,
                                   **data)
        return Response(s.PriceOut(price).data, status=status.HTTP_201_CREATED)
