"""Failed-authentication limits per client address, checked before any database read.

Guessing keys (or a client stuck on a revoked one) must not turn into one database lookup per
request: after `limit` failures in a minute from one address, that address gets 429 until the
window ends, answered from the limiter's counters alone. A request whose key is already cached
as valid never gets here, so a healthy client costs no extra Redis call.

The address is the socket peer; X-Forwarded-For is believed only when that peer is one of
settings.TRUSTED_PROXIES (and then the right-most address not itself a trusted proxy), so a
client cannot escape its counter by rotating the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from routing.gateway.limits import refusal

if TYPE_CHECKING:
    from core.errors import RateLimited
    from routing.gateway.context import RequestContext
    from routing.gateway.http import Scope
    from routing.gateway.limits import Limiter

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[_Network, ...]:
    """TRUSTED_PROXIES entries (IPs or CIDRs) as networks; blanks are ignored."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, headers: dict[bytes, bytes],
                   trusted: tuple[_Network, ...]) -> str:
    """The caller's address: the peer, or what a trusted proxy says it forwarded for."""
    client = scope.get("client")
    peer: str = client[0] if client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded = headers.get(b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled header from behind our own proxy: count the proxy
    return hops[0] if hops else peer


class AuthFailureGuard:
    """`await check(ctx)` raises 429 once the request's address failed `limit` times a minute.

    The key cache calls it (and `failed(ctx)`) only off its hot path: never for a cached
    valid key.
    """

    def __init__(self, limiter: Limiter, limit: int, trusted: tuple[_Network, ...] = ()):
        self._limiter = limiter
        self._limit = limit
        self._trusted = trusted

    def _address(self, ctx: RequestContext) -> str:
        return client_address(ctx.scope, ctx.headers, self._trusted)

    async def check(self, ctx: RequestContext | None) -> None:
        if ctx is None:
            return
        failures, reset_epoch = await self._limiter.peek(f"af:{self._address(ctx)}")
        if failures >= self._limit:
            raise self._refusal(reset_epoch)

    async def failed(self, ctx: RequestContext | None) -> None:
        if ctx is not None:
            await self._limiter.count(f"af:{self._address(ctx)}")

    def _refusal(self, reset_epoch: int) -> RateLimited:
        return refusal(
            "address", "failed authentications", self._limit, reset_epoch,
            message="Too many failed authentication attempts from this address; retry later.")
