"""The pool: connections per origin, kept alive, bounded; request framing; resolving."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.waiters import wake_one
from routing.engine.http1.errors import ConnectError, HttpClientError
from routing.engine.http1.response import Response, _Connection

Resolve = Callable[[str, int], Awaitable[list[str]]]  # (host, port) -> addresses

_DNS_TTL_S = 300.0
_MAX_MEMO = 4096  # distinct URLs and names remembered; past that the memo starts over
_DEFAULT_PORTS = {"http": 80, "https": 443}


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port: what a pooled connection is good for
    host: str  # as resolved and as TLS's server name (no brackets)
    port: int
    tls: bool
    request_line_rest: str  # " /path?query HTTP/1.1\r\nHost: ...\r\n"


def _parse_target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        ascii_host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise HttpClientError(f"invalid URL {url!r}: {exc}") from exc
    if scheme not in _DEFAULT_PORTS or not host:
        raise HttpClientError(f"not an http(s) URL: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    shown = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if parts.port:
        shown = f"{shown}:{parts.port}"
    if any(c in f"{path}{shown}" for c in " \r\n\t"):
        raise HttpClientError(f"invalid URL {url!r}")
    rest = f" {path} HTTP/1.1\r\nHost: {shown}\r\n"
    return _Target((scheme, ascii_host, port), ascii_host, port, scheme == "https", rest)


def _header_lines(headers: Mapping[str, str]) -> str:
    lines = []
    for name, value in headers.items():
        line = f"{name}: {value}\r\n"
        if line.count("\n") != 1 or "\r" in line[:-2] or ":" in name:
            raise HttpClientError(f"invalid request header {name!r}")
        lines.append(line)
    return "".join(lines)


class HttpClient:
    """Pooled HTTP/1.1 calls. Create and use it inside one event loop; `close()` at the end.

    `limit` bounds open connections in all, `limit_per_host` per origin (0: no bound); a call
    past a bound waits for a connection. Idle connections are kept `keepalive_s`.
    """

    def __init__(self, *, resolve: Resolve = system_resolve, limit: int = 512,
                 limit_per_host: int = 0, keepalive_s: float = 30.0,
                 headers: Mapping[str, str] | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self._resolve = resolve
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._keepalive_s = keepalive_s
        self._fixed = _header_lines(headers or {})
        self._ssl = ssl_context  # built on the first https call: it reads every CA certificate
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self._total = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._targets: dict[str, _Target] = {}
        self._dns: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._closed = False

    @property
    def in_use(self) -> int:
        """Connections open and not idle in the pool: a call's, or a response's being read."""
        return self._total - sum(len(idle) for idle in self._idle.values())

    async def request(self, method: str, url: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> Response:
        """Send the request; return once the response's status and headers arrived."""
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= _MAX_MEMO:
                self._targets.clear()
            target = self._targets[url] = _parse_target(url)
        head = "".join((method, target.request_line_rest, self._fixed,
                        _header_lines(headers) if headers else "",
                        f"Content-Length: {len(body)}\r\n\r\n"))
        try:
            payload = head.encode("latin-1") + body
        except UnicodeEncodeError as exc:
            raise HttpClientError(f"a request header is not Latin-1: {exc}") from exc
        conn = await self._acquire(target)
        response = Response(conn, self)
        try:
            conn.transport.write(payload)  # type: ignore[union-attr]
            await response._headers()  # noqa: SLF001 - the response's own waiting
        except BaseException:
            response.close()
            raise
        return response

    async def close(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- the pool
    def reuse(self, conn: _Connection) -> None:
        if self._closed or conn.closed:
            conn.close()
            self.forget(conn)
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        wake_one(self._waiters)

    def forget(self, conn: _Connection) -> None:
        """`conn` is closed and leaves the pool's counts (once)."""
        if conn.counted:
            conn.counted = False
            self._open[conn.origin] -= 1
            self._total -= 1
        wake_one(self._waiters)

    async def _acquire(self, target: _Target) -> _Connection:
        origin = target.origin
        while True:
            if self._closed:
                raise HttpClientError("the HTTP client is closed")
            conn = self._idle_connection(origin)
            if conn is not None:
                return conn
            if self._room(origin):
                break
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    wake_one(self._waiters)  # woken, then cancelled: pass the turn on
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
        self._open[origin] += 1
        self._total += 1
        try:
            conn = await self._connect(target)
            conn.counted = True
            return conn
        except BaseException:
            self._open[origin] -= 1
            self._total -= 1
            wake_one(self._waiters)
            raise

    def _idle_connection(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self._keepalive_s:
                return conn
            conn.close()
            self.forget(conn)
        return None

    def _room(self, origin: tuple[str, str, int]) -> bool:
        if self._limit_per_host and self._open[origin] >= self._limit_per_host:
            return False
        if self._total < self._limit:
            return True
        for idle in self._idle.values():  # at the bound: drop another origin's idle one
            if idle:
                conn = idle.pop(0)
                conn.close()
                self.forget(conn)
                return True
        return False

    async def _connect(self, target: _Target) -> _Connection:
        try:
            addresses = await self._addresses(target.host, target.port)
        except OSError as exc:
            raise ConnectError(f"cannot connect to {target.host}:{target.port}: {exc}",
                               exc) from exc
        failure: OSError = OSError(f"{target.host} resolved to no address")
        for address in addresses:
            try:
                _, conn = await self.loop.create_connection(
                    lambda: _Connection(target.origin), address, target.port,
                    ssl=self._tls() if target.tls else None,
                    server_hostname=target.host if target.tls else None)
            except OSError as exc:
                failure = exc
                continue
            return conn
        raise ConnectError(f"cannot connect to {target.host}:{target.port}: {failure}",
                           failure) from failure

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _addresses(self, host: str, port: int) -> list[str]:
        key = (host, port)
        cached = self._dns.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        addresses = await self._resolve(host, port)
        if len(self._dns) >= _MAX_MEMO:
            self._dns.clear()
        self._dns[key] = (now + _DNS_TTL_S, addresses)
        return addresses
