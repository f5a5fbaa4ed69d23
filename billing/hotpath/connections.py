"""A small pool of asyncpg connections for the hot-path writer.

asyncpg rather than psycopg here because this is the gateway's most frequent round trip: a
pooled hold cost ~95 µs of client CPU through psycopg's async pool and ~45 µs through asyncpg
(its protocol and binary codecs are compiled; psycopg's async wait loop and array dumpers run in
Python). asyncpg's own pool was not used: it runs a reset query on every release (a second
round trip) and shields each release in a task, ~25 µs more a checkout than this one.

What the writer needs of a pool, and all this one does:
- at most `max_size` connections, opened on demand (the first at `open()`), with the session
  settings given (sent in the start-up packet: no round trip);
- a checkout waits at most `timeout_s` for a free connection (then `PoolTimeout`);
- a connection returned `broken` (it raised a connection error, or its statement was cancelled
  in flight and its state is unknown) is closed and replaced later, never reused;
- after a connection error, each checkout is checked with a round trip for `suspect_s`: a
  restarted server leaves every idle connection dead, and each should cost a check, not a
  failed statement. The rest of the time a checkout costs no round trip.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import asyncpg
from psycopg.conninfo import conninfo_to_dict

from core.waiters import wake_one

# Errors meaning the connection (or the server) is gone: the connection is not reused and the
# statement may be tried again elsewhere. Class 08 (connection exceptions) and 57 (operator
# intervention: shutdown, crash, "the database system is starting up") from the server, the
# client's own interface errors (a closed connection), socket errors, and a protocol left in a
# state it cannot send from ("another operation is in progress": seen when the server
# restarted under load, raised before anything was sent).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InternalClientError,
)


class PoolTimeout(TimeoutError):
    """No connection became free (or could be opened) in time."""


def connect_options(conninfo: str) -> dict[str, Any]:
    """asyncpg's `connect()` keywords for a libpq connection string (Django's, see postgres.py)."""
    parts = conninfo_to_dict(conninfo)
    options: dict[str, Any] = {
        "host": parts.get("host"), "user": parts.get("user"),
        "password": parts.get("password"), "database": parts.get("dbname"),
    }
    if parts.get("port"):
        options["port"] = int(str(parts["port"]))
    if parts.get("sslmode"):
        options["ssl"] = parts["sslmode"]
    return {name: value for name, value in options.items() if value is not None}


class ConnectionPool:
    def __init__(self, conninfo: str, *, max_size: int, timeout_s: float,
                 server_settings: dict[str, str], suspect_s: float = 10.0):
        self._options = connect_options(conninfo)
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._server_settings = server_settings
        self._suspect_s = suspect_s
        self._suspect_until = 0.0  # monotonic
        self._idle: list[asyncpg.Connection] = []
        self._size = 0  # open connections, idle or checked out, plus those being opened
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def open(self) -> None:
        self.release(await self._connect())

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._size -= 1
            try:
                await asyncio.wait_for(conn.close(), 2.0)
            except Exception:  # noqa: BLE001 - a dead server: nothing to say goodbye to
                conn.terminate()
        wake_one(self._waiters)

    def mark_suspect(self) -> None:
        self._suspect_until = time.monotonic() + self._suspect_s

    async def acquire(self) -> asyncpg.Connection:
        deadline: float | None = None
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the hot-path pool is closed")
            while self._idle:
                conn = self._idle.pop()
                if conn.is_closed():
                    self._size -= 1
                    continue
                if self._suspect_until and time.monotonic() < self._suspect_until:
                    conn = await self._checked(conn)
                    if conn is None:
                        continue
                return conn
            if self._size < self._max_size:
                return await self._connect()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self._timeout_s
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise PoolTimeout(f"no database connection free within {self._timeout_s} s")
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                raise PoolTimeout(
                    f"no database connection free within {self._timeout_s} s") from None
            finally:
                if not waiter.done():
                    waiter.cancel()

    def release(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        if broken or self._closed or conn.is_closed():
            self._size -= 1
            conn.terminate()
        else:
            self._idle.append(conn)
        wake_one(self._waiters)

    async def _connect(self) -> asyncpg.Connection:
        self._size += 1
        try:
            return await asyncpg.connect(**self._options, timeout=self._timeout_s,
                                         server_settings=self._server_settings)
        except BaseException:
            self._size -= 1
            wake_one(self._waiters)
            raise

    async def _checked(self, conn: asyncpg.Connection) -> asyncpg.Connection | None:
        try:
            await conn.execute("SELECT 1", timeout=self._timeout_s)
        except (*CONNECTION_ERRORS, asyncpg.PostgresError):
            self.release(conn, broken=True)
            return None
        except BaseException:
            self.release(conn, broken=True)
            raise
        return conn

