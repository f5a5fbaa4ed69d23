"""The gateway's narrow seam into billing: admission holds and settlement.

The gateway builds one writer at start-up (`billing.hotpath.create_writer()`): asyncpg
connections and a handful of explicit statements on PostgreSQL; the same interface in a thread
on the embedded SQLite default. It is tested to agree with billing's ORM services.

Contract (the gateway relies on it, billing implements it):
- `await writer.hold(admission) -> int`: in ONE atomic statement, reserve
  `min(admission.want_nanos, what the wallet and the key's spend limit still afford)` and return
  the granted nanos; raise `core.errors.InsufficientCredits` (402) when less than
  `admission.min_nanos` is affordable. Writes the durable hold row (request id, org, key,
  endpoint, price id, prompt upper bound, deadline) so a worker can settle it if we die.
- `await writer.settle(settlement)`: charge, release the rest of the hold, write the usage
  record; may be batched across requests in a short window (one commit). Never raises into the
  request: while the database is unreachable the settlement stays queued and is replayed with
  backoff (replaying is idempotent); only a row the database refuses is left to the sweep.
- `await writer.release(request_id)`: drop a hold for a request that never reached a provider
  (replayed later if the database is unreachable; never raises for that).
- The database being unreachable (or not answering in time) makes `hold` raise
  `core.errors.ServiceUnavailable` (503 with Retry-After), as does a full settlement queue.
- `writer.pending` (how many settlements are not yet written: queued, or in the batch being
  written) and `await writer.flush()` (write them now, after the batch in flight): for a read
  that must see this process's own settlements.
- `writer.open_holds`: holds this writer granted that are not yet settled or released (an
  in-memory count for /metrics; a hold its request never closed stays counted, as it stays
  open in the database until the sweep).
- `writer.stats`: retries, replayed releases, refused admissions, lost settlements, backlog.
- `await writer.start()` / `await writer.close()`: open and drain (close replays unwritten
  settlements until HOTPATH_SHUTDOWN_FLUSH_S, then leaves the rest to the sweep, logged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Unpack

if TYPE_CHECKING:
    from billing.hotpath.batching import BatchOptions, WriterOptions


@dataclass(frozen=True, slots=True)
class Admission:
    request_id: str
    org_id: int
    key_id: int
    want_nanos: int  # worst case over the candidates at the requested output allowance
    min_nanos: int  # the least worth admitting: prompt upper bound + one output token
    model_slug: str
    endpoint_id: int | None
    price_id: int | None
    prompt_upper_bytes: int
    output_allowance_tokens: int
    deadline_s: float  # after this many seconds a worker may settle an orphaned hold
    is_byok: bool = False
    # Recorded on the hold so the sweep can price an orphan: the endpoint's provider (for the
    # margin rule) and its input price (used if the catalog's price row is gone).
    provider_slug: str = ""
    input_nanos_per_m: int | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    request_id: str
    org_id: int
    key_id: int
    hold_nanos: int
    requested_model: str
    served_model: str
    endpoint_id: int | None
    provider_slug: str
    price_id: int | None
    prompt_tokens: int
    completion_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    upstream_cost_nanos: int
    margin_nanos: int
    byok_fee_nanos: int
    charge_nanos: int
    write_off_nanos: int
    latency_ms: int
    ttft_ms: int | None
    finish_reason: str
    streamed: bool
    cancelled: bool
    is_byok: bool
    estimated: bool
    attempts: list[dict[str, Any]] = field(default_factory=list)
    app_referer: str = ""
    app_title: str = ""
    created_at_epoch_ms: int = 0
    policy_version: int | None = None
    region: str = ""
    zdr: bool = False
    request_sha256: str = ""


class HotPathWriter(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def hold(self, admission: Admission) -> int: ...
    async def settle(self, settlement: Settlement) -> None: ...
    async def release(self, request_id: str) -> None: ...
    async def flush(self) -> None: ...

    @property
    def pending(self) -> int: ...

    @property
    def open_holds(self) -> int: ...


def writer_settings() -> BatchOptions:
    """The writers' settings (marketplace/settings.py holds their defaults, and nothing else does).

    A writer fills whatever its caller leaves out from here, so a test that builds one directly
    gets the deployment's settle window rather than a second default of its own.
    """
    from django.conf import settings

    return {
        "window_ms": settings.HOTPATH_SETTLE_WINDOW_MS,
        "pending_max": settings.HOTPATH_PENDING_MAX,
        "shutdown_flush_s": settings.HOTPATH_SHUTDOWN_FLUSH_S,
    }


def create_writer(**options: Unpack[WriterOptions]) -> HotPathWriter:
    """The writer for this deployment: PostgreSQL's async pool, else SQLite's one thread.

    Imported here rather than at the top so the contract dataclasses stay free of Django and
    asyncpg for code (and tests) that only need the shapes.
    """
    from django.conf import settings

    if settings.IS_POSTGRES:
        from billing.hotpath.postgres import PostgresWriter

        return PostgresWriter.from_settings(**options)
    from billing.hotpath.thread import ThreadWriter

    return ThreadWriter.from_settings(**options)
