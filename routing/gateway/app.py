"""Placeholder gateway: answers every /v1 request with an OpenAI-style 404.

The gateway issue replaces this with the real app (authentication, routing, adapters).
"""

import orjson

from marketplace.errors import NotFound


def create_gateway_app():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = orjson.dumps(NotFound("No such route.").as_openai())
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app
