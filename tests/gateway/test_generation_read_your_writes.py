"""GET /v1/generation right after an answer finds it, even while its batch is being written."""

import asyncio

import httpx
import pytest

PAIRS = 300
IN_FLIGHT = 16


@pytest.mark.postgres
def test_generation_lookup_right_after_the_answer_always_finds_it(sandbox_catalog, funded_key,
                                                                  start_gateway, sandbox):
    # The default 20 ms settle window, and limits that never refuse this burst.
    gateway = start_gateway(HOTPATH_SETTLE_WINDOW_MS="20", GATEWAY_KEY_RPM="100000",
                            GATEWAY_ORG_RPM="100000")
    headers = {"Authorization": f"Bearer {funded_key.plaintext}"}
    body = {"model": "openai/gpt-4o-mini", "max_tokens": 8,
            "messages": [{"role": "user", "content": "read your writes"}]}

    async def pair(client: httpx.AsyncClient, gate: asyncio.Semaphore) -> tuple[int, int]:
        async with gate:
            answer = await client.post("/v1/chat/completions", json=body)
            assert answer.status_code == 200, answer.text
            lookup = await client.get("/v1/generation", params={"id": answer.json()["id"]})
            return answer.status_code, lookup.status_code

    async def run() -> list[tuple[int, int]]:
        gate = asyncio.Semaphore(IN_FLIGHT)
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with httpx.AsyncClient(base_url=gateway.url, headers=headers, timeout=30,
                                     limits=limits) as client:
            return await asyncio.gather(*(pair(client, gate) for _ in range(PAIRS)))

    results = asyncio.run(run())
    missed = [lookup for _, lookup in results if lookup != 200]
    assert len(results) == PAIRS
    assert missed == [], f"{len(missed)} of {PAIRS} lookups missed"
