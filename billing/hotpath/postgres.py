"""The PostgreSQL writer: asyncpg connections (connections.py), the statements of sql.py.

One round trip per hold, per release and per settlement batch: connections run in autocommit
(each statement is its own transaction). Holds go through a pool whose sessions set
`synchronous_commit = off`: a crashed gateway loses nothing the stale-hold sweep cannot rebuild
from what the server did persist, and a hold does not wait for the WAL flush. Settlement
batches and releases (off the answer's path) go through a second, small pool left at the
`synchronous_commit = on`, so they wait for the flush and a written settlement survives a database
crash; a hold the crash lost is charged without it (SETTLE_UNHELD). A separate pool rather than
`SET LOCAL` in a transaction: that costs three more round trips per batch. Connection errors
are retried on a fresh connection.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any, Unpack

import asyncpg
import orjson
from django.conf import settings
from django.db import connections
from psycopg.conninfo import make_conninfo

from billing.hotpath import Admission, Settlement, writer_settings
from billing.hotpath import sql as statements
from billing.hotpath.batching import BatchingWriter, BatchOptions, WriterOptions
from billing.hotpath.connections import CONNECTION_ERRORS, ConnectionPool, PoolTimeout
from billing.hotpath.rules import insufficient
from core.errors import Conflict, ServiceUnavailable

logger = logging.getLogger("billing.hotpath")

Row = tuple[Any, ...]
Positional = tuple[str, tuple[str, ...]]  # a statement with `$n` placeholders, and their names
# Lock waits across processes can still meet in a cycle (a batch touches many wallets); the
# server aborts one statement, which changed nothing, so trying again is safe.
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
_HOLD_TRIES = 3
# After a connection was found dead, every checkout is checked for this long: a restarted
# server leaves every idle connection of the pool dead, and each should cost a check, not a
# failed hold. The rest of the time a checkout costs no round trip.
_SUSPECT_S = 10.0
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
    transient_errors = (*BatchingWriter.transient_errors, *CONNECTION_ERRORS)

    def __init__(
        self,
        conninfo: str,
        *,
        pool_max: int | None = None,
        pool_timeout_s: float = 2.0,
        **options: Unpack[BatchOptions],
    ):
        merged: BatchOptions = {**writer_settings(), **options}
        super().__init__(**merged)
        self._conninfo = conninfo
        self._pool_max = settings.HOTPATH_POOL_MAX if pool_max is None else pool_max
        self._pool_timeout_s = pool_timeout_s
        self._pool: ConnectionPool | None = None
        # Settlement batches and releases: durable commits (see the module's docstring).
        self._durable_pool: ConnectionPool | None = None

    @classmethod
    def from_settings(cls, **options: Unpack[WriterOptions]) -> PostgresWriter:
        # Only the deployed writer bounds its waits; one a test builds waits as long as it takes.
        options.setdefault("db_timeout_s", settings.HOTPATH_DB_TIMEOUT_S)
        return cls(django_conninfo(), **options)

    async def _open(self) -> None:
        # A caller waits `pool_timeout_s` for a connection while the server is down (then 503).
        self._pool = ConnectionPool(self._conninfo, max_size=self._pool_max,
                                    timeout_s=self._pool_timeout_s,
                                    server_settings={"synchronous_commit": "off"},
                                    suspect_s=_SUSPECT_S)
        # One batch is written at a time; a release may run beside it. Whatever the server's
        # or the database's default is, these commits wait for the flush.
        self._durable_pool = ConnectionPool(self._conninfo, max_size=2,
                                            timeout_s=self._pool_timeout_s,
                                            server_settings={"synchronous_commit": "on"},
                                            suspect_s=_SUSPECT_S)
        await self._pool.open()
        await self._durable_pool.open()

    async def _shutdown(self) -> None:
        for pool in (self._pool, self._durable_pool):
            if pool is not None:
                await pool.close()
        self._pool = self._durable_pool = None

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
        row = await self._execute_one(_HOLD, params, tries=_HOLD_TRIES,
                                      request_id=admission.request_id)
        if row is None:  # no wallet at all
            raise insufficient(wallet_available=None, key_available=None,
                               required=admission.min_nanos)
        granted: int
        granted, wallet_available, key_available = row
        if granted < admission.min_nanos or granted < 0:
            raise insufficient(wallet_available=wallet_available, key_available=key_available,
                               required=admission.min_nanos)
        return granted

    async def _release(self, request_id: str) -> bool:
        # Durable like a settlement: a release lost in a crash would leave the hold to be swept.
        row = await self._execute_one(_RELEASE, {"request_id": request_id},
                                      tries=_HOLD_TRIES, durable=True)
        return bool(row and row[0])

    async def _settle_batch(self, batch: Sequence[Settlement]) -> int:
        # One list per usage column, each named by its position (sql.USAGE_COLUMNS).
        columns: list[list[object]] = [[] for _ in statements.USAGE_COLUMNS]
        for s in batch:
            for column, (name, _) in zip(columns, statements.USAGE_COLUMNS, strict=True):
                if name == "created_ms":
                    column.append(s.created_at_epoch_ms)
                elif name == "attempts":
                    column.append(orjson.dumps(list(s.attempts)).decode())
                else:
                    column.append(getattr(s, name))
        arrays: dict[str, list[object]] = {f"c{i}": column for i, column in enumerate(columns)}
        row = await self._execute_one(_SETTLE_BATCH, arrays, tries=2, durable=True)
        settled: int = row[0] if row else 0
        if settled < len(batch):
            # Some holds were not open: already settled (a replay), swept, or lost with a
            # database crash; only the last kind has no row at all, and is charged here.
            arrays["org_id"] = [s.org_id for s in batch]
            arrays["key_id"] = [s.key_id for s in batch]
            row = await self._execute_one(_SETTLE_UNHELD, arrays, tries=2,
                                          durable=True)
            if row and row[0]:
                logger.warning("settle: %d settlements had lost their hold (a database crash); "
                               "charged without it", row[0])
                settled += row[0]
        return settled

    async def _execute_one(self, statement: Positional, params: dict[str, Any], *, tries: int,
                           request_id: str | None = None, durable: bool = False) -> Row | None:
        pool = self._durable_pool if durable else self._pool
        if pool is None:
            raise RuntimeError("the hot-path writer is used before start()")
        query, names = statement
        args = [params[name] for name in names]
        lost = False
        for attempt in range(1, tries + 1):
            try:
                conn = await pool.acquire()
                broken = True  # until the server answered: a cancelled statement's state is unknown
                try:
                    row = await conn.fetchrow(query, *args)
                    broken = False
                    return tuple(row) if row is not None else None
                except asyncpg.PostgresError as exc:
                    broken = isinstance(exc, CONNECTION_ERRORS)
                    raise
                except asyncpg.InterfaceError as exc:
                    if conn.is_closed():
                        raise
                    # The client refused an argument (asyncpg's client-side DataError): a
                    # bug, not an outage; never retried as one.
                    raise RuntimeError(f"hot-path statement not sent: {exc}") from exc
                finally:
                    pool.release(conn, broken=broken)
            except asyncpg.UniqueViolationError as exc:
                if lost and request_id is not None:
                    # The hold sent on the connection that died did commit: nobody will use
                    # it, so release it (replayed until written) and let the caller retry.
                    self._queue_release(request_id)
                    raise ServiceUnavailable("The database connection was lost; retry.") from exc
                raise Conflict("A hold for this request id already exists.") from exc
            except _RETRYABLE:
                if attempt == tries:
                    raise
                await asyncio.sleep(0.001 * attempt)
            except CONNECTION_ERRORS as exc:
                # The dead connection was closed; check the others on checkout for a while,
                # and try once more on a fresh one.
                pool.mark_suspect()
                if attempt == tries or isinstance(exc, PoolTimeout):
                    raise
                lost = True
        return None


def _positional(statement: str) -> Positional:
    """`%(name)s` placeholders (as billing/hotpath/sql.py writes them) as asyncpg's `$n`."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return "".join(("$", str(names.index(match.group(1)) + 1)))  # asyncpg's $1, $2, ...

    return re.sub(r"%\((\w+)\)s", number, statement), tuple(names)


_HOLD = _positional(statements.HOLD)
_RELEASE = _positional(statements.RELEASE)
_SETTLE_BATCH = _positional(statements.SETTLE_BATCH)
_SETTLE_UNHELD = _positional(statements.SETTLE_UNHELD)
