"""The Django side's request id and request metrics, in one middleware (first in MIDDLEWARE).

Each request gets an id, bound into structlog's context so every line logged while serving it
carries `request_id` (marketplace/logs.py), and returned as `X-Request-Id`. The gateway does
the same for `/v1` with its generation id (routing/gateway/gateway.py). The request's status
and duration go to the Django metrics of marketplace/metrics.py, unless METRICS_ENABLED is off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from structlog.contextvars import bound_contextvars

from marketplace.metrics import DJANGO_LATENCY, DJANGO_REQUESTS


def new_request_id() -> str:
    return f"req-{int(time.time())}-{os.urandom(12).hex()}"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.metrics = settings.METRICS_ENABLED

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        started = time.perf_counter()
        with bound_contextvars(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-Id"] = request_id
        if self.metrics:
            DJANGO_REQUESTS.labels(request.method or "", str(response.status_code)).inc()
            DJANGO_LATENCY.observe(time.perf_counter() - started)
        return response
