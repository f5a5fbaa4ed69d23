"""Anthropic Messages wire format (filled in below)."""
from routing.sandbox.common import WireError

ID_PREFIX, CALL_PREFIX = "msg_", "toolu_"


def check_headers(request):
    pass


def parse(body, request, match):
    raise WireError(501, "not yet")


def error(status, message, param=None):
    return {"type": "error", "error": {"type": "api_error", "message": message}}


def models(request):
    return {"data": []}
