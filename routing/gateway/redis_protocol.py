"""A minimal pipelined Redis client (RESP2) for the limiter's one call per request.

redis-py's asyncio client costs ~0.1-0.2 ms of CPU per command (connection pool, retry and
event machinery, pure-Python parsing); this client is an asyncio.Protocol over one connection
that writes each command at once and matches replies to waiting futures in order, so
concurrent requests pipeline naturally. It speaks only what the limiter needs: commands in,
integers, strings, errors and arrays out. TCP (`redis://host:port/db`) or a unix socket
(`unix:///path?db=N`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeAlias, cast
from urllib.parse import parse_qs, urlparse


class RedisReplyError(Exception):
    """Redis answered `-ERR ...` (e.g. NOSCRIPT)."""


class _Incomplete(Exception):
    pass


# What a command returns: an integer, a (bulk) string, nil or an array of replies; an error
# reply is raised, but one nested in an array stays a value.
Reply: TypeAlias = "int | bytes | None | RedisReplyError | list[Reply]"


def encode(args: tuple[object, ...]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def _parse(buffer: bytes, pos: int) -> tuple[Reply, int]:
    """One reply from `buffer` at `pos`: (value, next position); _Incomplete if cut short."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[pos:pos + 1], buffer[pos + 1:end]
    pos = end + 2
    if kind == b":":
        return int(line), pos
    if kind == b"+":
        return line, pos
    if kind == b"-":
        return RedisReplyError(line.decode(errors="replace")), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            raise _Incomplete
        return buffer[pos:pos + size], pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items: list[Reply] = []
        for _ in range(count):
            item, pos = _parse(buffer, pos)
            items.append(item)
        return items, pos
    raise RedisReplyError(f"unexpected reply type {kind!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future[Reply]] = deque()
        self.buffer = b""
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection's transport; cast, as uvloop's does not subclass asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        pos = 0
        waiters = self.waiters
        while pos < len(buffer):
            try:
                value, pos_next = _parse(buffer, pos)
            except _Incomplete:
                break
            pos = pos_next
            waiter = waiters.popleft()
            if not waiter.done():
                if isinstance(value, RedisReplyError):
                    waiter.set_exception(value)
                else:
                    waiter.set_result(value)
        self.buffer = buffer[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionError("Redis connection lost"))


class RespClient:
    def __init__(self, url: str, timeout_s: float = 0.25):
        parsed = urlparse(url)
        self._unix = parsed.path if parsed.scheme == "unix" else None
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 6379
        db = parse_qs(parsed.query).get("db", [None])[0]
        if db is None and parsed.scheme != "unix":
            db = (parsed.path or "/0").lstrip("/") or "0"
        self._db = int(db or 0)
        self._password = parsed.password
        self._timeout_s = timeout_s
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        # A hung server still completes the TCP handshake (the kernel does it): bound it all.
        async with asyncio.timeout(self._timeout_s):
            if self._unix:
                _, protocol = await loop.create_unix_connection(_Protocol, self._unix)
            else:
                _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
        self._protocol = protocol
        if self._password:
            await self._send(protocol, ("AUTH", self._password))
        if self._db:
            await self._send(protocol, ("SELECT", self._db))
        return protocol

    async def _send(self, protocol: _Protocol, args: tuple[object, ...]) -> Reply:
        if protocol.transport is None:  # only a connected protocol is handed out
            raise ConnectionError("Redis connection not open")
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        protocol.waiters.append(waiter)
        protocol.transport.write(encode(args))
        try:
            async with asyncio.timeout(self._timeout_s):
                return await waiter
        except TimeoutError:
            # A server that stopped answering: drop the connection (its other waiters fail at
            # once instead of each waiting out the timeout) and reconnect on the next call.
            if self._protocol is protocol:
                self.close()
            raise

    async def call(self, *args: object) -> Reply:
        protocol = self._protocol
        if protocol is None or protocol.lost:
            if self._connecting is None:
                self._connecting = asyncio.Lock()
            async with self._connecting:
                protocol = self._protocol
                if protocol is None or protocol.lost:
                    protocol = await self._connect()
        return await self._send(protocol, args)

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
