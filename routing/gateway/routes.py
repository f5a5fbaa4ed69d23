"""The /v1 route table: exact paths in a dict, one parameterised path matched by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from routing.gateway import account, chat, info, messages, receipt

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway

Handler = Callable[["Gateway", "RequestContext"], Awaitable[None]]


def resolve(method: str, path: str) -> Handler | None:
    handler = _EXACT.get((method, path.rstrip("/") or "/"))
    if handler is not None:
        return handler
    if method == "GET" and path.startswith("/v1/models/") and path.endswith("/endpoints"):
        return info.model_endpoints
    return None


_EXACT: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat.chat_completions,
    ("POST", "/v1/messages"): messages.messages,
    ("GET", "/v1/models"): info.list_models,
    ("GET", "/v1/key"): account.key_info,
    ("GET", "/v1/auth/key"): account.key_info,  # OpenRouter's older path for the same answer
    ("GET", "/v1/credits"): account.credits,
    ("GET", "/v1/generation"): account.generation,
    ("GET", "/v1/generation/receipt"): receipt.receipt,
}
