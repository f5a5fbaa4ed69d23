"""Limit/offset pagination for list APIs (`?limit=&offset=`), as DRF's settings configure."""

from rest_framework.pagination import LimitOffsetPagination


def paginated_response(*, request, view, queryset, serializer_class):
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
