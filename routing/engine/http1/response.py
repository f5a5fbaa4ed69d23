"""One connection's protocol, and the response it feeds: httptools parses, we buffer and wake."""

from __future__ import annotations

import asyncio
import zlib
from typing import TYPE_CHECKING

import httptools

from routing.engine.http1.errors import Disconnected, HttpClientError, MalformedResponse

if TYPE_CHECKING:
    from routing.engine.http1.client import HttpClient

_HIGH_WATER = 1 << 18  # body bytes buffered before the socket stops being read


class _Connection(asyncio.Protocol):
    """One socket. It feeds the response being read, if any; anything else makes it unusable."""

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.response: Response | None = None
        self.closed = False
        self.counted = False  # in the pool's counts until forgotten
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # bytes nobody asked for
            self.close()
            return
        response.feed(data)

    def eof_received(self) -> bool:
        return False  # close; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.response is not None:
            self.response.lost(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """A response whose status and headers have arrived; its body arrives as it is read.

    `read()` returns the whole body and hands the connection back to the pool; `readany()`
    returns whatever arrived since the last call (b"" at the end), after which `release()`
    hands it back. `close()` drops the connection, mid-body or not; both are idempotent.
    Headers are a dict with lower-case names.
    """

    __slots__ = ("_begun", "_chunks", "_client", "_conn", "_decoder", "_done", "_error",
                 "_interim", "_keep_alive", "_loop", "_parser", "_paused", "_raw_headers",
                 "_size", "_until_eof", "_waiter", "headers", "status")

    def __init__(self, conn: _Connection, client: HttpClient) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self._conn: _Connection | None = conn
        self._client = client
        self._loop = client.loop
        self._parser = httptools.HttpResponseParser(self)
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []
        self._size = 0
        self._begun = False
        self._interim = False  # a 1xx response is being parsed: not the answer
        self._done = False
        self._keep_alive = False
        self._until_eof = False
        self._paused = False
        self._decoder: zlib._Decompress | None = None
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        conn.response = self

    # -- fed by the connection
    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(MalformedResponse(f"malformed HTTP response: {exc}"))
        except zlib.error as exc:
            self._fail(MalformedResponse(f"undecodable response body: {exc}"))

    def lost(self, exc: Exception | None) -> None:
        if self._done:
            return
        if exc is None and self.status and self._until_eof:
            self.on_message_complete()  # a body delimited by the end of the connection
            return
        detail = f": {exc}" if exc is not None else ""
        self._fail(Disconnected(f"the connection closed before the response ended{detail}"))

    # -- httptools' callbacks
    def on_message_begin(self) -> None:
        if self._begun:  # a second response nobody asked for: never reuse this connection
            self._keep_alive = False
        self._begun = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.status:
            return
        parser = self._parser
        status = parser.get_status_code()
        if status < 200:  # 103 Early Hints and the like: the answer follows
            self._interim = True
            self._raw_headers.clear()
            return
        headers = self.headers
        for name, value in self._raw_headers:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self._keep_alive = parser.should_keep_alive()
        self._until_eof = ("content-length" not in headers
                           and "chunked" not in headers.get("transfer-encoding", "").lower()
                           and status not in (204, 304))
        if self._until_eof:
            self._keep_alive = False
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate", "x-gzip"):
            self._decoder = zlib.decompressobj(47)  # 32 + 15: a gzip or zlib header, detected
        self.status = status
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._decoder is not None:
            body = self._decoder.decompress(body)
            if not body:
                return
        self._chunks.append(body)
        self._size += len(body)
        conn = self._conn
        if self._size > _HIGH_WATER and not self._paused and conn is not None \
                and conn.transport is not None:
            self._paused = True
            conn.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            self._begun = False
            return
        if self._done:
            return
        if self._decoder is not None:
            rest = self._decoder.flush()
            if rest:
                self._chunks.append(rest)
        self._done = True
        self._wake()

    # -- read by the caller
    async def read(self) -> bytes:
        """The whole body; the connection goes back to the pool."""
        while not self._done:
            if self._error is not None:
                raise self._error
            self._resume()
            await self._wait()
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.release()
        return data

    async def readany(self) -> bytes:
        """What arrived since the last read, waiting for something; b"" once the body ended."""
        while not self._chunks:
            if self._done:
                return b""
            if self._error is not None:
                raise self._error
            await self._wait()
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        self._resume()
        return data

    def release(self) -> None:
        """Back to the pool if the body was read to its end, else closed."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.response = None
        if self._done and self._keep_alive and self._error is None:
            if self._paused and conn.transport is not None:
                conn.transport.resume_reading()
            self._client.reuse(conn)
        else:
            conn.close()
            self._client.forget(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.response = None
            conn.close()
            self._client.forget(conn)

    # -- internals
    async def _headers(self) -> None:
        while not self.status:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def _wait(self) -> None:
        waiter = self._waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: HttpClientError) -> None:
        if self._error is None and not self._done:
            self._error = error
        conn = self._conn
        if conn is not None:
            conn.close()
        self._wake()

    def _resume(self) -> None:
        if self._paused:
            self._paused = False
            conn = self._conn
            if conn is not None and conn.transport is not None:
                conn.transport.resume_reading()
