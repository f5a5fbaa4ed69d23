"""Limit/offset pagination for list APIs (`?limit=&offset=`), bounded.

DRF's LimitOffsetPagination passes any digits to the database (`?limit=10**30` overflowed
PostgreSQL's bigint: a 500) and silently ignores garbage. Here both must be whole numbers in
range, or the answer is a 400 naming the parameter.
"""

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from core.money_input import InputError, parse_bounded_int

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def _bounded(self, request, name: str, low: int, high: int, default):
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse_bounded_int(raw, low=low, high=high)
        except InputError as exc:
            raise ValidationError({name: [exc.message]}) from None

    def get_limit(self, request):
        return self._bounded(request, self.limit_query_param, 1, MAX_LIMIT, self.default_limit)

    def get_offset(self, request):
        return self._bounded(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, MAX_LIMIT), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters


# For `extend_schema(parameters=[...])` of list views (APIViews document no paginator).
PAGE_PARAMETERS = [
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                     description=f"Page size (default 50, at most {MAX_LIMIT})."),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                     description="Rows to skip."),
]


def paginated(serializer_class) -> serializers.Serializer:
    """The schema of a page: the envelope `paginated_response` answers with, around the rows."""
    name = getattr(getattr(serializer_class, "Meta", None), "ref_name", None) or (
        serializer_class.__name__.removesuffix("Serializer"))
    return inline_serializer(name=f"Paginated{name}List", fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer_class(many=True),
    })


def paginated_response(*, request, view, queryset, serializer_class):
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
