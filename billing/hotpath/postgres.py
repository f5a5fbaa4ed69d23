"""The PostgreSQL writer: psycopg's async pool and the three statements of billing/hotpath/sql.py.

One round trip per hold and per release, one per settlement batch. Connections run in
autocommit (each statement is its own transaction) with `synchronous_commit = off`: a crashed
gateway loses nothing the stale-hold sweep cannot rebuild from what the server did persist,
and a commit no longer waits for the WAL flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import orjson
import psycopg
from django.conf import settings
from django.db import connections
from psycopg import errors
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from billing.hotpath import Admission, Settlement
from billing.hotpath import sql as statements
from billing.hotpath.batching import BatchingWriter
from billing.hotpath.rules import insufficient
from marketplace.errors import Conflict

logger = logging.getLogger("billing.hotpath")

# Lock waits across processes can still meet in a cycle (a batch touches many wallets); the
# server aborts one statement, which changed nothing, so trying again is safe.
_RETRYABLE = (errors.DeadlockDetected, errors.SerializationFailure)
_HOLD_TRIES = 3
_DJANGO_ONLY_OPTIONS = {"pool", "isolation_level", "server_side_binding", "assume_role",
                        "cursor_factory", "prepare_threshold"}


def django_conninfo(alias: str = "default") -> str:
    """The connection string of Django's database (the test database under pytest)."""
    conf = connections[alias].settings_dict
    parts = {
        "dbname": conf.get("NAME"),
        "user": conf.get("USER"),
        "password": conf.get("PASSWORD"),
        "host": conf.get("HOST"),
        "port": str(conf.get("PORT") or ""),
    }
    # libpq options given in OPTIONS (sslmode, connect_timeout, ...), not Django's own keys.
    for name, value in conf.get("OPTIONS", {}).items():
        if name not in _DJANGO_ONLY_OPTIONS and isinstance(value, str | int):
            parts[name] = str(value)
    return make_conninfo(**{k: v for k, v in parts.items() if v})


class PostgresWriter(BatchingWriter):
    def __init__(
        self,
        conninfo: str,
        *,
        pool_max: int = 4,
        window_ms: int = 3,
        max_batch: int = 500,
    ):
        super().__init__(window_ms=window_ms, max_batch=max_batch)
        self._conninfo = conninfo
        self._pool_max = pool_max
        self._pool: AsyncConnectionPool | None = None

    @classmethod
    def from_settings(cls, **options) -> PostgresWriter:
        options.setdefault("pool_max", settings.HOTPATH_POOL_MAX)
        options.setdefault("window_ms", settings.HOTPATH_SETTLE_WINDOW_MS)
        return cls(django_conninfo(), **options)

    async def _open(self) -> None:
        async def configure(conn: psycopg.AsyncConnection) -> None:
            await conn.execute("SET synchronous_commit = off")

        self._pool = AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self._pool_max,
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            timeout=10,
        )
        await self._pool.open(wait=True)

    async def _shutdown(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _hold(self, admission: Admission) -> int:
        params = {
            "request_id": admission.request_id,
            "org_id": admission.org_id,
            "key_id": admission.key_id,
            "want": admission.want_nanos,
            "min": admission.min_nanos,
            "endpoint_id": admission.endpoint_id,
            "price_id": admission.price_id,
            "model_slug": admission.model_slug,
            "prompt_upper_bytes": admission.prompt_upper_bytes,
            "output_allowance_tokens": admission.output_allowance_tokens,
            "is_byok": admission.is_byok,
            "provider_slug": admission.provider_slug,
            "input_nanos_per_m": admission.input_nanos_per_m,
            "deadline_ms": round(admission.deadline_s * 1000),
        }
        row = await self._execute_one(statements.HOLD, params, tries=_HOLD_TRIES)
        if row is None:  # no wallet at all
            raise insufficient(wallet_available=None, key_available=None,
                               required=admission.min_nanos)
        granted, wallet_available, key_available = row
        if granted < admission.min_nanos or granted < 0:
            raise insufficient(wallet_available=wallet_available, key_available=key_available,
                               required=admission.min_nanos)
        return granted

    async def _release(self, request_id: str) -> bool:
        row = await self._execute_one(statements.RELEASE, {"request_id": request_id},
                                      tries=_HOLD_TRIES)
        return bool(row and row[0])

    async def _settle_batch(self, batch: Sequence[Settlement]) -> int:
        arrays: dict[str, list] = {name: [] for name, _ in statements.USAGE_COLUMNS}
        for s in batch:
            for name, _ in statements.USAGE_COLUMNS:
                if name == "created_ms":
                    value = s.created_at_epoch_ms
                elif name == "attempts":
                    value = orjson.dumps(list(s.attempts)).decode()
                else:
                    value = getattr(s, name)
                arrays[name].append(value)
        row = await self._execute_one(statements.SETTLE_BATCH, arrays, tries=2)
        return row[0] if row else 0

    async def _execute_one(self, query: str, params: dict, *, tries: int):
        for attempt in range(1, tries + 1):
            try:
                async with self._pool.connection() as conn:
                    cursor = await conn.execute(query, params)
                    return await cursor.fetchone()
            except errors.UniqueViolation as exc:
                raise Conflict("A hold for this request id already exists.") from exc
            except _RETRYABLE:
                if attempt == tries:
                    raise
                await asyncio.sleep(0.001 * attempt)
        return None
