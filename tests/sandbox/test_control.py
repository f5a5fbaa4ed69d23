"""The control API's loopback rule (all test traffic is loopback, so the check itself)."""

import asyncio

import aiohttp

from routing.sandbox.control_api import is_loopback
from routing.sandbox.tokens import count_text


def test_loopback_peers_only():
    for peer in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"):
        assert is_loopback(peer), peer
    for peer in ("10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "2001:db8::1", "", None, "x"):
        assert not is_loopback(peer), peer


def test_serves_hundreds_of_concurrent_requests(sandbox):
    # Correctness under concurrency only: speed is measured by benchmarks, not timed asserts.
    body = {"model": "m", "messages": [{"role": "user", "content": "fast"}]}
    url = sandbox.openai_base("sandbox-openai") + "/chat/completions"

    async def run():
        # aiohttp, not httpx: httpx's async pool would measure the client, not the server
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as client:

            async def one():
                async with client.post(url, json=body) as response:
                    return response.status, await response.json()

            return await asyncio.gather(*[one() for _ in range(300)])

    answers = asyncio.run(run())
    assert {status for status, _ in answers} == {200}
    assert {data["usage"]["prompt_tokens"] for _, data in answers} == {count_text("fast")}
