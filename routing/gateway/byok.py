"""The org's own provider keys (BYOK) in the gateway: candidate order, holds, the served key,
and reporting keys a provider refused.

The keys come with the caller (`Caller.rules.byok`, loaded with the key and dropped within a
second of a change); the engine tries them (routing/engine/upstream.py). Nothing here reads
the database on the request path: a refused key is reported from a background task through
compliance's service (seams), at most once a minute per key per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import Any

from core.compliance_rules import ByokCredential
from routing.gateway.costs import FeeBpsFor
from routing.gateway.seams import EndpointView
from routing.types import Attempt

log = logging.getLogger(__name__)

REJECTION_REPORT_INTERVAL_S = 60.0
_MAX_REMEMBERED = 10_000


def byok_first(ranked: list[EndpointView],
               byok: Mapping[str, ByokCredential]) -> list[EndpointView]:
    """The ranking with the endpoints the org has its own key for first, each group in order."""
    if not byok:
        return ranked
    own = [e for e in ranked if e.provider.slug in byok]
    if not own or len(own) == len(ranked):
        return ranked
    return own + [e for e in ranked if e.provider.slug not in byok]


def hold_fee_bps_for(byok: Mapping[str, ByokCredential], fee_bps: int) -> FeeBpsFor:
    """For hold sizing: the BYOK fee for endpoints only the org's key may serve (always use);
    None elsewhere, where the platform's key may serve at the full price."""
    def fee_for(endpoint: EndpointView) -> int | None:
        own = byok.get(endpoint.provider.slug)
        return fee_bps if own is not None and own.always_use else None
    return fee_for


def served_by_byok(attempts: Iterable[Attempt | dict[str, Any]], default: bool) -> bool:
    """Whether the attempt that served (or last reached a provider) used the org's own key.

    `attempts` are the engine's (a served request ends with its successful one) or, for a
    failed request, its error's metadata rows; with none, `default` (the hold's guess).
    """
    last: Attempt | dict[str, Any] | None = None
    for attempt in attempts:
        status = attempt.status if isinstance(attempt, Attempt) else attempt.get("status")
        if status not in ("circuit_open", "connect_error"):
            last = attempt
    if last is None:
        return default
    return bool(last.byok if isinstance(last, Attempt) else last.get("byok", False))


class ByokRejections:
    """Report BYOK keys a provider answered 401 to: the org sees a notice and an audit entry.

    `mark(org_id, byok_id)` is compliance's service, run in the gateway's database threads off
    the request path; each key is reported at most once per interval by this process (the
    service also keeps it to once a minute across processes).
    """

    def __init__(self, executor: Executor, mark: Callable[[int, int], object], *,
                 interval_s: float = REJECTION_REPORT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._executor = executor
        self._mark = mark
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def note(self, org_id: int, byok_id: int) -> None:
        now = self._clock()
        last = self._last.get(byok_id)
        if last is not None and now - last < self._interval_s:
            return
        if len(self._last) >= _MAX_REMEMBERED:
            self._last.clear()
        self._last[byok_id] = now
        task = asyncio.get_running_loop().create_task(self._report(org_id, byok_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, org_id: int, byok_id: int) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, functools.partial(self._mark, org_id, byok_id))
        except Exception as exc:  # noqa: BLE001 - best effort; the next 401 reports again
            self._last.pop(byok_id, None)
            log.warning("could not record that BYOK key %s was rejected: %s", byok_id,
                        type(exc).__name__)

    async def close(self) -> None:
        """Let reports in flight finish (they are short database writes)."""
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait(list(self._tasks), timeout=5)
