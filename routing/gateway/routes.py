"""The /v1 route table: exact paths in a dict, one parameterised path matched by hand."""

from __future__ import annotations

from routing.gateway import chat, info


def resolve(method: str, path: str):
    handler = _EXACT.get((method, path.rstrip("/") or "/"))
    if handler is not None:
        return handler
    if method == "GET" and path.startswith("/v1/models/") and path.endswith("/endpoints"):
        return info.model_endpoints
    return None


_EXACT = {
    ("POST", "/v1/chat/completions"): chat.chat_completions,
    ("GET", "/v1/models"): info.list_models,
}
