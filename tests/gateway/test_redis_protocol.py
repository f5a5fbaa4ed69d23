"""The limiter's minimal Redis client against a real Redis: replies, pipelining, errors."""

import asyncio

import pytest
from django.conf import settings

from routing.gateway.limits import ADMIT_LUA, ADMIT_SHA
from routing.gateway.redis_protocol import RedisReplyError, RespClient, encode


def test_encode_is_resp_arrays_of_bulk_strings():
    assert encode(("SET", "k", 12)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"


@pytest.mark.redis
def test_replies_pipelining_and_errors():
    async def run():
        client = RespClient(settings.REDIS_URL)
        key = f"sy:test:resp:{id(client)}"
        try:
            assert await client.call("DEL", key) in (0, 1)
            # Twenty calls in flight on one connection come back in order.
            results = await asyncio.gather(*(client.call("INCR", key) for _ in range(20)))
            assert results == list(range(1, 21))
            assert await client.call("GET", key) == b"20"
            assert await client.call("EVAL", "return {1, 'two', {3}}", 0) == [1, b"two", [3]]
            with pytest.raises(RedisReplyError, match="NOSCRIPT"):
                await client.call("EVALSHA", "0" * 40, 0)
            assert await client.call("SCRIPT", "LOAD", ADMIT_LUA) == ADMIT_SHA.encode()
            await client.call("DEL", key)
        finally:
            client.close()

    asyncio.run(run())
