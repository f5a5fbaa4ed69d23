"""Shared pieces of the engine tests: endpoints on the real sandbox server, and a runner."""

from __future__ import annotations

import asyncio

from core.upstream_urls import LOOPBACK_NETWORKS, parse_networks
from routing.engine import Upstream
from routing.health import Health
from tests.routing.builders import chat, endpoint, provider

MODEL = "acme/chat"
LOOPBACK = parse_networks(LOOPBACK_NETWORKS)  # the sandbox listens there, as under SANDBOX=1
PROMPT = "Hello there"


def sandbox_endpoint(sandbox, slug: str, wire_format: str = "openai", **fields):
    """An endpoint whose provider is `slug` on the sandbox (any slug is a fresh provider)."""
    base_url = sandbox.openai_base(slug) if wire_format == "openai" else sandbox.url(slug)
    return endpoint(MODEL, provider(slug, wire_format=wire_format, base_url=base_url),
                    upstream_model_id=fields.pop("upstream_model_id", "sandbox-model"),
                    **fields)


def run(test, **upstream_options):
    """Run `await test(upstream)` with a started Upstream, closing it afterwards."""
    async def main():
        upstream = Upstream(Health(), **{"allowed_networks": LOOPBACK, **upstream_options})
        await upstream.start()
        try:
            return await test(upstream)
        finally:
            await upstream.close()
    return asyncio.run(main())


def call_kwargs(deadline_s: float = 10.0):
    return {"max_tokens_for": lambda e: 64, "deadline_s": deadline_s,
            "credentials": lambda p: "sk-sandbox"}


def request(stream: bool = False, **fields):
    return chat(MODEL, prompt=PROMPT, stream=stream, **fields)


async def drain(stream):
    return [chunk async for batch in stream.chunks for chunk in batch]
