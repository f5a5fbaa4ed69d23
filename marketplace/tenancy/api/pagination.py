"""Limit/offset pagination for list APIs (`?limit=&offset=`), bounded.

DRF's LimitOffsetPagination passes any digits to the database (`?limit=10**30` overflowed
PostgreSQL's bigint: a 500) and silently ignores garbage. Here both must be whole numbers in
range, or the answer is a 400 naming the parameter.
"""

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


def paginated_response(*, request, view, queryset, serializer_class):
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
