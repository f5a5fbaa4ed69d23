"""Content logging in the gateway, for orgs that turned it on (compliance/content_log.py).

Off by default and free when off: a request whose org has no `content_retention_days` costs one
attribute check. When on, the request body as received and the answer (the JSON body sent, or
for a stream its choices assembled from the chunks) are queued after the answer went out, and
`ContentRecorder` inserts them in batches from the gateway's database threads, off the answer's
path. Content is best effort beside the answer: while the database is down the queue keeps at
most `MAX_PENDING_ROWS` rows and `MAX_PENDING_BYTES` of request bodies, then drops new rows with
a warning (never their content), rather than grow without bound.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import orjson

from core.money import api_usd
from routing.gateway.seams import ContentRow

if TYPE_CHECKING:
    from routing.gateway.call import Call
    from routing.gateway.costs import Charge
    from routing.types import Stream, Usage

log = logging.getLogger(__name__)

# Rows gather this long before one insert: batches under load, a short wait when idle.
GATHER_S = 0.2
# After a failed insert, wait this long before trying the same rows again.
RETRY_S = 1.0
MAX_PENDING_ROWS = 10_000
MAX_PENDING_BYTES = 64 * 1024 * 1024
# At most one "dropped" warning per this many seconds.
WARN_EVERY_S = 60.0


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


class ContentRecorder:
    """Rows queued by requests, inserted in batches through compliance's `store_contents`."""

    def __init__(self, store: Callable[[list[ContentRow]], object], executor: Executor):
        self._store = store
        self._executor = executor
        self._pending: list[ContentRow] = []
        self._pending_bytes = 0
        self._sizes: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._dropped = 0
        self._warned_at = 0.0

    def add(self, row: ContentRow, *, size: int) -> None:
        if (len(self._pending) >= MAX_PENDING_ROWS
                or self._pending_bytes + size > MAX_PENDING_BYTES):
            self._dropped += 1
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_S:
                self._warned_at = now
                log.warning("content logging is behind: %d rows dropped so far (queue full)",
                            self._dropped)
            return
        self._pending.append(row)
        self._sizes[row.request_id] = size
        self._pending_bytes += size
        self._wake.set()

    async def flush(self) -> bool:
        """Insert what is queued; False (the rows stay queued) if the insert failed."""
        if not self._pending:
            return True
        batch, self._pending = self._pending, []
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store, batch)
        except Exception:  # noqa: BLE001 - kept for the next try; the answer is long gone
            log.warning("could not store %d rows of request content; retrying", len(batch),
                        exc_info=True)
            self._pending[:0] = batch
            return False
        for row in batch:
            self._pending_bytes -= self._sizes.pop(row.request_id, 0)
        return True

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(GATHER_S)
            if not await self.flush():
                await asyncio.sleep(RETRY_S)
                self._wake.set()


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
