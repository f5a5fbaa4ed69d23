"""One admitted request, from rate limit and hold to settlement and its usage record.

Shared by /v1/chat/completions and /v1/messages (which differ only in how they parse and
render). Steps 3-7 of ARCHITECTURE.md, "The hot path": rate limits, candidates, the admission
hold, the upstream call through the engine, settlement through billing's hot-path writer.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import orjson

from core.compliance_rules import ByokCredential
from core.errors import InsufficientCredits, SwitchyardError
from core.money import api_usd
from routing.adapters.base import estimate_prompt_tokens
from routing.engine.failures import attempts_metadata
from routing.gateway.byok import byok_first, hold_fee_bps_for, served_by_byok
from routing.gateway.costs import Charge, fit_allowances, plan_hold, settle_charge
from routing.gateway.seams import (
    CANCELLED,
    Admission,
    EndpointView,
    ProviderView,
    Settlement,
    caller_price_nanos,
)
from routing.policy import select_candidates
from routing.types import Attempt, ChatRequest, Completion, Stream, Usage

if TYPE_CHECKING:
    from routing.gateway.auth import Caller
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway

# Attempt statuses that never reached a provider (no usage record for those alone).
_NOT_REACHED = frozenset({"circuit_open", "connect_error"})


class Call:
    __slots__ = ("gw", "ctx", "caller", "request", "body", "candidates", "allowances",
                 "hold_nanos", "_bps", "_margins", "referer", "title", "settled", "hold_is_byok")

    def __init__(self, gw: Gateway, ctx: RequestContext, caller: Caller, request: ChatRequest,
                 body: bytes):
        self.gw = gw
        self.ctx = ctx
        self.caller = caller
        self.request = request
        # The request body exactly as received: its SHA-256 goes on the usage record (and the
        # signed receipt); orgs that log content keep it (routing/gateway/content.py).
        self.body = body
        self.candidates: list[EndpointView] = []
        self.allowances: dict[int, int] = {}
        self.hold_nanos = 0
        self._margins = gw.catalog.margins
        self._bps: dict[int, int] = {}
        headers = ctx.headers
        self.referer = headers.get(b"http-referer", b"").decode("utf-8", "replace")[:300]
        title = headers.get(b"x-openrouter-title") or headers.get(b"x-title") or b""
        self.title = title.decode("utf-8", "replace")[:200]
        self.settled = False
        self.hold_is_byok = False
        record = ctx.record
        if record is not None:
            record.model_requested = request.model
            record.streamed = request.stream

    def bps_for(self, endpoint: EndpointView) -> int:
        bps = self._bps.get(endpoint.id)
        if bps is None:
            margins = self._margins
            bps = (margins.bps(self.caller.org_id, endpoint.model_slug, endpoint.provider.slug)
                   if margins is not None else self.gw.config.default_margin_bps)
            self._bps[endpoint.id] = bps
        return bps

    def _caller_prices(self, endpoint: EndpointView) -> tuple[int, int]:
        bps = self.bps_for(endpoint)
        return (caller_price_nanos(endpoint.price.input_nanos_per_m, bps),
                caller_price_nanos(endpoint.price.output_nanos_per_m, bps))

    async def admit(self) -> None:
        """Rate limits, candidates, then the hold; raises the 429/404/503/402 to render."""
        gw, caller, request = self.gw, self.caller, self.request
        rules = caller.rules
        await gw.limiter.admit(caller.key_id, caller.org_id, key_rpm=rules.key.rpm,
                               key_tpm=rules.key.tpm)
        # The task label, off the answer's path; not for a request the limiter refused (a
        # flood of refusals must cost as little as possible).
        self.ctx.label_body = self.body
        # The org's and key's policies narrow the candidates from memory (no database read).
        selection = select_candidates(gw.catalog.snapshot, request, health=gw.upstream.health,
                                      caller_prices=self._caller_prices, rng=gw.rng,
                                      rules=rules)
        # The org's own keys first (a stable reorder of the policy's ranking).
        byok = rules.byok
        candidates = byok_first(selection.ranked, byok)
        fee_bps_for = hold_fee_bps_for(byok, gw.config.byok_fee_bps)
        plan = plan_hold(request, candidates, self.bps_for, fee_bps_for)
        first = candidates[0]
        self.hold_is_byok = first.provider.slug in byok
        self.hold_nanos = await gw.writer.hold(Admission(
            request_id=self.ctx.request_id, org_id=caller.org_id, key_id=caller.key_id,
            want_nanos=plan.want_nanos, min_nanos=plan.min_nanos, model_slug=request.model,
            endpoint_id=first.id, price_id=first.price.price_id,
            provider_slug=first.provider.slug, input_nanos_per_m=first.price.input_nanos_per_m,
            prompt_upper_bytes=request.prompt_upper_bytes,
            output_allowance_tokens=plan.allowances[first.id],
            deadline_s=gw.config.request_deadline_s + gw.config.hold_grace_s,
            is_byok=self.hold_is_byok,
        ))
        self.candidates, self.allowances = fit_allowances(
            plan, request, candidates, self.hold_nanos, self.bps_for, fee_bps_for)
        if not self.candidates:  # the grant covers no endpoint's prompt plus one token
            await gw.writer.release(self.ctx.request_id)
            raise InsufficientCredits("Not enough credits for this prompt on any endpoint.",
                                      metadata={"granted_nanos": self.hold_nanos})

    def _credentials(self, provider: ProviderView) -> str | None:
        # The platform's key: real providers' from settings, the sandbox providers' own under
        # SANDBOX. The org's own keys (BYOK) go to the engine separately. Never logged.
        return self.gw.config.platform_key(provider)

    def _byok_rejected(self, credential: ByokCredential) -> None:
        self.gw.byok_rejections.note(self.caller.org_id, credential.byok_id)

    def _max_tokens_for(self, endpoint: EndpointView) -> int:
        return self.allowances[endpoint.id]

    async def complete(self) -> Completion:
        started = time.perf_counter()
        try:
            return await self.gw.upstream.complete(
                self.request, self.candidates, max_tokens_for=self._max_tokens_for,
                deadline_s=self.gw.config.request_deadline_s, credentials=self._credentials,
                request_id=self.ctx.request_id, byok=self.caller.rules.byok,
                on_byok_rejected=self._byok_rejected)
        finally:
            self.ctx.upstream_s += time.perf_counter() - started

    async def open_stream(self) -> Stream:
        started = time.perf_counter()
        try:
            return await self.gw.upstream.stream(
                self.request, self.candidates, max_tokens_for=self._max_tokens_for,
                deadline_s=self.gw.config.request_deadline_s, credentials=self._credentials,
                request_id=self.ctx.request_id, byok=self.caller.rules.byok,
                on_byok_rejected=self._byok_rejected)
        finally:
            self.ctx.upstream_s += time.perf_counter() - started

    async def settle(self, endpoint: EndpointView, usage: Usage, finish_reason: str | None,
                     attempts: list[Attempt] | list[dict[str, Any]], *, ttft_ms: int | None,
                     streamed: bool, cancelled: bool) -> Charge:
        """Charge, release the rest of the hold and queue the usage record (batched)."""
        is_byok = served_by_byok(attempts, self.hold_is_byok)
        charge = settle_charge(endpoint, usage, finish_reason, bps=self.bps_for(endpoint),
                               byok_fee_bps=self.gw.config.byok_fee_bps,
                               hold_nanos=self.hold_nanos, is_byok=is_byok)
        caller = self.caller
        org_rules = caller.rules.org
        latency_ms = int((time.perf_counter() - self.ctx.started) * 1000)
        self.settled = True
        # The engine's Attempts, or (from fail()) an error's metadata rows already.
        settlement_attempts = [
            *attempts_metadata([a for a in attempts if isinstance(a, Attempt)]),
            *(a for a in attempts if not isinstance(a, Attempt))]
        await self.gw.writer.settle(Settlement(
            request_id=self.ctx.request_id, org_id=caller.org_id, key_id=caller.key_id,
            hold_nanos=self.hold_nanos, requested_model=self.request.model,
            served_model=endpoint.model_slug, endpoint_id=endpoint.id,
            provider_slug=endpoint.provider.slug, price_id=endpoint.price.price_id,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            upstream_cost_nanos=charge.upstream_cost_nanos, margin_nanos=charge.margin_nanos,
            byok_fee_nanos=charge.byok_fee_nanos, charge_nanos=charge.charge_nanos,
            write_off_nanos=charge.write_off_nanos, latency_ms=latency_ms, ttft_ms=ttft_ms,
            finish_reason=finish_reason or "", streamed=streamed, cancelled=cancelled,
            is_byok=is_byok, estimated=usage.estimated,
            attempts=settlement_attempts,
            app_referer=self.referer, app_title=self.title,
            created_at_epoch_ms=int(time.time() * 1000) - latency_ms,
            region=endpoint.region or next(iter(endpoint.provider.regions), ""),
            request_sha256=hashlib.sha256(self.body).hexdigest(),
            # The org policy this request was routed under, and whether zero data retention
            # was in force (the org requires it, or the request asked for it).
            policy_version=org_rules.version,
            zdr=org_rules.require_zdr or self.request.provider.zdr,
        ))
        self.gw.limiter.add_tokens(caller.key_id, caller.org_id,
                                   usage.prompt_tokens + usage.completion_tokens)
        record = self.ctx.record
        if record is not None:
            record.model_served = endpoint.model_slug
            record.provider = endpoint.provider.slug
            record.endpoint_id = endpoint.id
            record.prompt_tokens = usage.prompt_tokens
            record.completion_tokens = usage.completion_tokens
            record.cost_nanos = charge.charge_nanos
            record.latency_ms = latency_ms
            record.ttft_ms = ttft_ms
            record.finish_reason = finish_reason or ""
            record.attempts = settlement_attempts
            record.is_byok = is_byok
            record.is_fallback = bool(self.candidates) and endpoint.id != self.candidates[0].id
            record.is_cached = usage.cache_read_tokens > 0
            if cancelled:
                record.outcome = CANCELLED
        return charge

    async def fail(self, error: SwitchyardError | None, *, cancelled: bool = False) -> None:
        """The upstream call failed (or the client left) before an answer: record or release.

        A request that reached a provider leaves a usage record (zero output with an error
        finish is not charged); one that never reached any provider just drops its hold.
        """
        if self.settled or not self.candidates:
            return
        attempts = (error.metadata.get("attempts") or []) if error is not None else []
        reached = [a for a in attempts if a.get("status") not in _NOT_REACHED]
        if not reached and not cancelled:
            await self.gw.writer.release(self.ctx.request_id)
            self.settled = True
            return
        endpoint = self._endpoint_of(reached[-1]["endpoint_id"]) if reached \
            else self.candidates[0]
        usage = Usage(prompt_tokens=estimate_prompt_tokens(self.request), estimated=True) \
            if cancelled else Usage()
        await self.settle(endpoint, usage, "cancelled" if cancelled else "error", attempts,
                          ttft_ms=None, streamed=self.request.stream, cancelled=cancelled)

    def _endpoint_of(self, endpoint_id: int) -> EndpointView:
        for endpoint in self.candidates:
            if endpoint.id == endpoint_id:
                return endpoint
        return self.candidates[0]


def usage_payload(usage: Usage, charge: Charge) -> dict[str, Any]:
    """OpenRouter's `usage` block; `cost` is exact decimal dollars, never via a float."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens,
                                  "cache_write_tokens": usage.cache_write_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "cost": orjson.Fragment(api_usd(charge.charge_nanos)),
        "is_byok": charge.is_byok,
        "cost_details": {
            "upstream_inference_cost": orjson.Fragment(api_usd(charge.upstream_cost_nanos)),
            "upstream_inference_prompt_cost": orjson.Fragment(
                api_usd(charge.upstream_prompt_nanos)),
            "upstream_inference_completions_cost": orjson.Fragment(
                api_usd(charge.upstream_completion_nanos)),
        },
    }
