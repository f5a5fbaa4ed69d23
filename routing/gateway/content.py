"""Content logging in the gateway, for orgs that turned it on (compliance/content_log.py).

Off by default and free when off: a request whose org has no `content_retention_days` costs one
attribute check. When on, the request body as received and the answer (the JSON body sent, or
for a stream its choices assembled from the chunks) are queued after the answer went out, and
`content_queue` inserts them in batches from the gateway's database threads (`batches.py`), off
the answer's path. Content is best effort beside the answer: while the database is down the
queue keeps at most `MAX_PENDING_ROWS` rows and `MAX_PENDING_BYTES` of request bodies, then
drops new rows with a warning (never their content), rather than grow without bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import orjson

from core.money import api_usd
from routing.gateway.batches import BatchQueue
from routing.gateway.seams import ContentRow

if TYPE_CHECKING:
    from routing.gateway.call import Call
    from routing.gateway.costs import Charge
    from routing.types import Stream, Usage

MAX_PENDING_ROWS = 10_000
MAX_PENDING_BYTES = 64 * 1024 * 1024


def logs_content(call: Call) -> bool:
    org = call.caller.rules.org
    # require_zdr and content logging cannot both be set (policy service, database constraint);
    # checked again so that no mistake elsewhere ever stores a zero-data-retention org's content.
    return org.content_retention_days is not None and not org.require_zdr


def record_content(call: Call, response: Any) -> None:
    """Queue this request's content (call only when `logs_content(call)`)."""
    days = call.caller.rules.org.content_retention_days
    if days is None:
        return
    now = dt.datetime.now(dt.UTC)
    call.gw.content.add(ContentRow(
        org_id=call.caller.org_id, request_id=call.ctx.request_id,
        request=orjson.loads(call.body), response=response, created_at=now,
        expires_at=now + dt.timedelta(days=days)), size=len(call.body))


def content_queue(store: Callable[[Sequence[ContentRow]], object],
                  executor: Executor) -> BatchQueue[ContentRow]:
    """Rows queued by requests, inserted in batches through compliance's `store_contents`."""
    return BatchQueue("request content", store, executor, max_rows=MAX_PENDING_ROWS,
                      max_bytes=MAX_PENDING_BYTES)


class StreamTranscript:
    """A stream's answer assembled from its chunks: what a JSON answer would have said."""

    __slots__ = ("_id", "_created", "_choices")

    def __init__(self) -> None:
        self._id = ""
        self._created = 0
        self._choices: dict[int, dict[str, Any]] = {}

    def add(self, batch: list[dict[str, Any]]) -> None:
        for chunk in batch:
            self._id = chunk.get("id") or self._id
            self._created = chunk.get("created") or self._created
            for choice in chunk.get("choices") or ():
                self._add_choice(choice)

    def _add_choice(self, choice: dict[str, Any]) -> None:
        index = choice.get("index") or 0
        entry = self._choices.setdefault(index, {"role": "assistant", "content": [],
                                                 "reasoning": [], "tool_calls": {},
                                                 "finish_reason": None})
        delta = choice.get("delta") or {}
        if delta.get("role"):
            entry["role"] = delta["role"]
        for part in ("content", "reasoning"):
            if isinstance(delta.get(part), str):
                entry[part].append(delta[part])
        for call in delta.get("tool_calls") or ():
            tool = entry["tool_calls"].setdefault(call.get("index") or 0, {
                "id": None, "type": "function", "function": {"name": "", "arguments": ""}})
            tool["id"] = call.get("id") or tool["id"]
            function = call.get("function") or {}
            tool["function"]["name"] += function.get("name") or ""
            tool["function"]["arguments"] += function.get("arguments") or ""
        if choice.get("finish_reason"):
            entry["finish_reason"] = choice["finish_reason"]

    def response(self, stream: Stream, usage: Usage, charge: Charge) -> dict[str, Any]:
        choices = []
        for index, entry in sorted(self._choices.items()):
            message: dict[str, Any] = {"role": entry["role"],
                                       "content": "".join(entry["content"])}
            if entry["reasoning"]:
                message["reasoning"] = "".join(entry["reasoning"])
            if entry["tool_calls"]:
                message["tool_calls"] = [tool for _, tool in sorted(entry["tool_calls"].items())]
            choices.append({"index": index, "message": message,
                            "finish_reason": entry["finish_reason"]})
        return {
            "id": self._id, "object": "chat.completion", "created": self._created,
            "model": stream.endpoint.model_slug, "provider": stream.endpoint.provider.name,
            "streamed": True, "choices": choices,
            "usage": {"prompt_tokens": usage.prompt_tokens,
                      "completion_tokens": usage.completion_tokens,
                      "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                      "cost": api_usd(charge.charge_nanos)},
        }
