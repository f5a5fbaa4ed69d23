"""`Upstream`: the pooled HTTP client that calls providers, with retries and fallbacks.

One instance per gateway process owns one `HttpClient` (routing/engine/http1/: keep-alive
pools and httptools' parser; aiohttp cost three times its CPU per call, httpx's async pool ten
times under concurrency). For each candidate in order it makes an attempt bounded by
`attempt_timeout_s` and the request's overall deadline;
408, 429, 5xx, timeouts, connection errors and malformed answers move on (after honouring a
short Retry-After once on the same endpoint), a provider's rejection of the request itself
(other 4xx) is raised at once. A stream is returned only once its first chunk is in hand, so
every retry happens before the client sees a byte.

Keys: an org's own key for a provider (BYOK, `byok`) is tried first on each of its endpoints,
at its own base URL if it has one. When that key is refused (401, 403) or rate limited (429)
the platform's key (`credentials`) tries the same endpoint, unless the org always uses its own
key; such a refusal never counts against the endpoint's breaker or health, which every org
shares, and a 401 is reported through `on_byok_rejected`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from catalog.snapshot import EndpointView, ProviderView
from core.compliance_rules import ByokCredential
from core.upstream_urls import Network
from routing.adapters import adapter_for
from routing.adapters.base import Adapter, SSEDecoder, UpstreamRequest, estimate_completion_usage
from routing.engine.failures import (
    BYOK_KEY_FAULT_STATUSES,
    IO_ERRORS,
    exhausted_error,
    failure_from_exception,
    moves_on,
    report,
    terminal_error,
)
from routing.engine.guard import GuardedResolver, UrlGuard
from routing.engine.http1 import HttpClient, Resolve, system_resolve
from routing.engine.streaming import read_first_chunks, relay
from routing.health import Health
from routing.types import Attempt, ChatRequest, Completion, Stream, UpstreamFailure

T = TypeVar("T")
USER_AGENT = "switchyard-gateway/0.1"  # some providers' firewalls refuse requests without one
MaxTokensFor = Callable[[EndpointView], int]
Credentials = Callable[[ProviderView], str | None]
ByokKeys = Mapping[str, ByokCredential]  # provider slug -> the org's own key
OnByokRejected = Callable[[ByokCredential], None]
_NO_BYOK: ByokKeys = {}
# An attempt's attempt: the endpoint (at the key's base URL), the secret to send, whose key.
AttemptFn = Callable[[EndpointView, float, str | None], Awaitable[T]]


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _keys_for(own: ByokCredential | None) -> tuple[ByokCredential | None, ...]:
    """The keys to try on one endpoint, in order; None is the platform's key."""
    if own is None:
        return (None,)
    return (own,) if own.always_use else (own, None)


def _at_base_url(endpoint: EndpointView, base_url: str) -> EndpointView:
    """The endpoint as the org's key reaches it: the same endpoint at the org's base URL."""
    provider = dataclasses.replace(endpoint.provider, base_url=base_url)
    return dataclasses.replace(endpoint, provider=provider)


class Upstream:
    """Calls providers for the gateway. `start()` before use, `close()` at shutdown.

    Only addresses outside core/upstream_urls.py's blocked ranges are called, plus those in
    `allowed_networks`; `resolver` (`async (host, port) -> [address, ...]`, the system's by
    default) is what names are resolved with before that check. Redirects are never followed.
    """

    def __init__(self, health: Health | None = None, *, attempt_timeout_s: float = 60.0,
                 stream_idle_timeout_s: float = 60.0, retry_after_cap_s: float = 2.0,
                 max_connections: int = 512, max_connections_per_host: int = 0,
                 allowed_networks: Iterable[Network] = (),
                 resolver: Resolve | None = None) -> None:
        self.health = health or Health()
        self.attempt_timeout_s = attempt_timeout_s
        self.stream_idle_timeout_s = stream_idle_timeout_s
        self.retry_after_cap_s = retry_after_cap_s
        self._limits = (max_connections, max_connections_per_host)
        self._allowed = tuple(allowed_networks)
        self._resolver = resolver
        self._urls = UrlGuard(self._allowed)
        self._client: HttpClient | None = None

    async def start(self) -> None:
        # Timeouts are ours (per attempt and per request), so the client has none of its own.
        # Identity encoding: a compressed stream would be held back to fill compression blocks.
        self._client = HttpClient(
            resolve=GuardedResolver(self._allowed, self._resolver or system_resolve),
            limit=self._limits[0], limit_per_host=self._limits[1], keepalive_s=30.0,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            raise RuntimeError("Upstream.start() was not awaited")
        return self._client

    async def complete(self, request: ChatRequest, candidates: list[EndpointView], *,
                       max_tokens_for: MaxTokensFor, deadline_s: float,
                       credentials: Credentials, request_id: str | None = None,
                       byok: ByokKeys = _NO_BYOK,
                       on_byok_rejected: OnByokRejected | None = None) -> Completion:
        """A non-streamed answer from the first candidate that gives one."""
        started = time.monotonic()
        completion_id = request_id or f"gen-{uuid.uuid4().hex}"

        async def attempt(endpoint: EndpointView, timeout_s: float,
                          secret: str | None) -> Completion:
            adapter = adapter_for(endpoint.provider.wire_format)
            upstream = self._build(adapter, endpoint, request, max_tokens_for, secret,
                                   stream=False)
            async with asyncio.timeout(timeout_s):
                response = await self.client.request("POST", upstream.url, upstream.body,
                                                     upstream.headers)
                try:
                    data = await response.read()
                finally:
                    response.close()  # nothing once read: the connection is back in the pool
            if response.status >= 300:
                raise adapter.translate_error(response.status, response.headers, data)
            parsed = adapter.parse_response(endpoint, data)
            usage = parsed.usage or estimate_completion_usage(request, parsed.body)
            parsed.body["id"] = completion_id
            parsed.body["created"] = int(time.time())
            latency_ms = _ms(time.monotonic() - started)
            return Completion(endpoint, parsed.body, usage, parsed.finish_reason, [],
                              latency_ms)

        completion, attempts = await self._try_in_turn(candidates, deadline_s, started, attempt,
                                                       credentials, byok, on_byok_rejected)
        completion.attempts = attempts
        return completion

    async def stream(self, request: ChatRequest, candidates: list[EndpointView], *,
                     max_tokens_for: MaxTokensFor, deadline_s: float,
                     credentials: Credentials, request_id: str | None = None,
                     byok: ByokKeys = _NO_BYOK,
                     on_byok_rejected: OnByokRejected | None = None) -> Stream:
        """A streamed answer, returned once its first chunk was read (see `Stream`)."""
        started = time.monotonic()
        deadline = started + deadline_s
        completion_id = request_id or f"gen-{uuid.uuid4().hex}"
        created = int(time.time())

        async def attempt(endpoint: EndpointView, timeout_s: float,
                          secret: str | None) -> Stream:
            adapter = adapter_for(endpoint.provider.wire_format)
            upstream = self._build(adapter, endpoint, request, max_tokens_for, secret,
                                   stream=True)
            translator = adapter.stream_translator(endpoint, request, completion_id, created)
            decoder = SSEDecoder()
            response = None
            try:
                async with asyncio.timeout(timeout_s):
                    response = await self.client.request("POST", upstream.url, upstream.body,
                                                         upstream.headers)
                    if response.status >= 300:
                        data = await response.read()
                        raise adapter.translate_error(response.status, response.headers, data)
                    first = await read_first_chunks(response, decoder, translator)
            except BaseException:
                if response is not None:
                    response.close()
                raise
            ttft_ms = _ms(time.monotonic() - started)
            stream = Stream(endpoint=endpoint, chunks=None, attempts=[],  # type: ignore[arg-type]
                            ttft_ms=ttft_ms)
            stream.chunks = relay(response, decoder, translator, first, stream,
                                  idle_timeout_s=self.stream_idle_timeout_s, deadline=deadline,
                                  verdict=self._stream_verdict(endpoint, stream, started),
                                  secret=secret)
            return stream

        stream, attempts = await self._try_in_turn(candidates, deadline_s, started, attempt,
                                                   credentials, byok, on_byok_rejected,
                                                   verdict_later=True)
        stream.attempts = attempts
        return stream

    def _build(self, adapter: Adapter, endpoint: EndpointView, request: ChatRequest,
               max_tokens_for: MaxTokensFor, secret: str | None, *,
               stream: bool) -> UpstreamRequest:
        self._urls.check(endpoint.provider.base_url)
        return adapter.build_request(endpoint, request, max_tokens=max_tokens_for(endpoint),
                                     api_key=secret, stream=stream)

    def _stream_verdict(self, endpoint: EndpointView, stream: Stream,
                        started: float) -> Callable[[UpstreamFailure | str], None]:
        health = self.health

        def verdict(outcome: UpstreamFailure | str) -> None:
            if outcome == "ok":
                health.record_success(endpoint.id, latency_ms=_ms(time.monotonic() - started),
                                      ttft_ms=stream.ttft_ms,
                                      completion_tokens=stream.usage.completion_tokens
                                      if stream.usage else 0)
            elif outcome == "abandoned":
                health.breakers.release(endpoint.id)
            else:
                health.record_failure(endpoint.id)
        return verdict

    async def _try_in_turn(self, candidates: list[EndpointView], deadline_s: float,
                           started: float, attempt: AttemptFn[T], credentials: Credentials,
                           byok: ByokKeys, on_byok_rejected: OnByokRejected | None, *,
                           verdict_later: bool = False) -> tuple[T, list[Attempt]]:
        """Run `attempt` on each candidate (with each of its keys) until one succeeds; raise
        the fitting error if none does.

        With `verdict_later`, success is recorded by the stream when it ends, not here.
        """
        health = self.health
        deadline = started + deadline_s
        attempts: list[Attempt] = []
        failures: list[UpstreamFailure] = []
        failed: ProviderView | None = None  # the provider of the last failure
        for endpoint in candidates:
            provider = endpoint.provider
            slug = provider.slug
            for own in _keys_for(byok.get(slug) if byok else None):
                if own is None:
                    target, secret = endpoint, credentials(provider)
                else:
                    target = _at_base_url(endpoint, own.base_url) if own.base_url else endpoint
                    secret = own.api_key
                is_byok = own is not None
                waited = False
                next_key = False  # the org's key was refused: the platform's may try
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise exhausted_error(attempts, failures, deadline_passed=True,
                                              provider=failed)
                    if not health.breakers.acquire(endpoint.id):
                        attempts.append(Attempt(endpoint.id, slug, "circuit_open", 0))
                        break
                    began = time.monotonic()
                    try:
                        result = await attempt(target, min(self.attempt_timeout_s, remaining),
                                               secret)
                    except IO_ERRORS as exc:
                        failure = failure_from_exception(exc)
                        report(failure, provider, secret)
                    except BaseException:
                        health.breakers.release(endpoint.id)  # cancelled: no verdict
                        raise
                    else:
                        latency_ms = _ms(time.monotonic() - began)
                        attempts.append(Attempt(endpoint.id, slug, 200, latency_ms,
                                                byok=is_byok))
                        if not verdict_later:
                            completion_tokens = getattr(getattr(result, "usage", None),
                                                        "completion_tokens", 0)
                            health.record_success(endpoint.id, latency_ms=latency_ms,
                                                  completion_tokens=completion_tokens)
                        return result, attempts
                    attempts.append(Attempt(endpoint.id, slug, failure.status,
                                            _ms(time.monotonic() - began),
                                            failure.message[:300], byok=is_byok))
                    failures.append(failure)
                    failed = provider
                    if own is not None and failure.status in BYOK_KEY_FAULT_STATUSES:
                        # The org's key, not the endpoint: no verdict for the breaker.
                        health.breakers.release(endpoint.id)
                        if failure.status == 401 and on_byok_rejected is not None:
                            on_byok_rejected(own)
                        next_key = True
                        break
                    if not moves_on(failure):
                        health.breakers.record_success(endpoint.id)  # it answered; we were wrong
                        raise terminal_error(failure, provider, attempts)
                    health.record_failure(endpoint.id, trips_breaker=failure.status != 429)
                    wait = failure.retry_after_s
                    if waited or wait is None or wait > self.retry_after_cap_s \
                            or time.monotonic() + wait >= deadline:
                        break  # next candidate
                    waited = True
                    await asyncio.sleep(wait)
                if not next_key:
                    break  # the endpoint failed (or its breaker is open): next candidate
        raise exhausted_error(attempts, failures,
                              deadline_passed=time.monotonic() >= deadline, provider=failed)
