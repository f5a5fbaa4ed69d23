"""Gemini wire format (filled in below)."""
from routing.sandbox.common import WireError

ID_PREFIX, CALL_PREFIX = "", ""


def split_target(request):
    raise WireError(501, "not yet")


def error(status, message, param=None):
    return {"error": {"code": status, "message": message, "status": "UNIMPLEMENTED"}}
