"""Connect-time checks of where upstream calls go: the policy of core/upstream_urls.py, again.

A base URL passed the save-time check, but a name can resolve elsewhere later (DNS rebinding,
a changed record) and rows may predate the check. So every address a name resolves to is checked
by `GuardedResolver` before the HTTP client connects (to those very addresses; its DNS cache then
holds them, so the check costs nothing per request), and a URL naming an address literally is
judged once per base URL by `UrlGuard`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from core.upstream_urls import (
    Network,
    UpstreamURLError,
    address_refusal,
    check_addresses,
    is_allowed,
    literal_address,
)
from routing.engine.http1 import Resolve
from routing.types import UpstreamFailure

_MAX_VERDICTS = 4096  # distinct base URLs remembered; past that the memo starts over


class GuardedResolver:
    """Resolve through `inner`, refusing a name if any address it gives is not allowed.

    An address written literally (in any form `literal_address` reads) is checked without
    asking `inner`. The refusal is an OSError (`core.upstream_urls.AddressRefused`), which the
    HTTP client reports as a connection error: the attempt fails before any byte is sent, and
    the engine moves on.
    """

    def __init__(self, allowed: Iterable[Network], inner: Resolve) -> None:
        self._allowed = tuple(allowed)
        self._inner = inner

    async def __call__(self, host: str, port: int) -> list[str]:
        try:
            address = literal_address(host)
        except UpstreamURLError:
            address = None
        addresses = [str(address)] if address is not None else await self._inner(host, port)
        check_addresses(host, addresses, self._allowed)
        return addresses


class UrlGuard:
    """Judge each base URL once: scheme http(s), and a literal address must be allowed."""

    __slots__ = ("_allowed", "_verdicts")

    def __init__(self, allowed: Iterable[Network]) -> None:
        self._allowed = tuple(allowed)
        self._verdicts: dict[str, str] = {}  # base URL -> "" (fine) or why it is refused

    def check(self, base_url: str) -> None:
        """Raise a connect_error failure for a base URL the gateway must not call."""
        reason = self._verdicts.get(base_url)
        if reason is None:
            if len(self._verdicts) >= _MAX_VERDICTS:
                self._verdicts.clear()
            reason = self._verdicts[base_url] = self._judge(base_url)
        if reason:
            raise UpstreamFailure("connect_error", f"Refused to connect: {reason}.", True)

    def _judge(self, base_url: str) -> str:
        try:
            parts = urlsplit(base_url)  # parsed as the HTTP client will parse it
            scheme, host = parts.scheme.lower(), parts.hostname
            address = literal_address(host) if host else None
        except (ValueError, UpstreamURLError) as exc:
            return f"invalid provider URL ({exc})"
        if scheme not in ("https", "http") or not host:
            return "the provider URL is not an https URL"
        if address is None:
            return ""  # a name: GuardedResolver checks what it resolves to
        reason = address_refusal(address, self._allowed)
        if reason is not None:
            return reason
        if scheme == "http" and not is_allowed(address, self._allowed):
            return f"plain http to {address}, outside the allowed networks"
        return ""
