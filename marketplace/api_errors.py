"""The management API's rendering of `core.errors`: DRF is needed here, so it is not in core."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import SwitchyardError


def drf_exception_handler(exc, context):
    """Render SwitchyardError through DRF, then DRF's own errors as usual."""
    if isinstance(exc, SwitchyardError):
        body = {"error": {"code": exc.code, "message": exc.message, **exc.metadata}}
        return Response(body, status=exc.status, headers=exc.headers or None)
    return exception_handler(exc, context)
