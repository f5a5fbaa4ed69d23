"""The /v1 ASGI app: lifespan builds one `Gateway`; every HTTP request goes to it.

Plain ASGI, no framework and no Django request cycle (see routing/gateway/http.py for why).
"""

from __future__ import annotations

import asyncio
import logging

from routing.gateway.config import GatewayConfig
from routing.gateway.gateway import Gateway
from routing.gateway.http import Receive, Scope, Send

log = logging.getLogger(__name__)


class GatewayApp:
    def __init__(self) -> None:
        self.gateway: Gateway | None = None
        self._starting: asyncio.Lock | None = None

    async def _ensure_started(self) -> Gateway:
        # Servers run with `--lifespan off` still work: the first request starts the gateway.
        if self.gateway is None:
            if self._starting is None:
                self._starting = asyncio.Lock()
            async with self._starting:
                if self.gateway is None:
                    gateway = Gateway(GatewayConfig.from_settings())
                    await gateway.start()
                    self.gateway = gateway
        return self.gateway

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._ensure_started()
                except Exception as exc:
                    log.exception("gateway start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.gateway is not None:
                    await self.gateway.close()
                    self.gateway = None
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            gateway = self.gateway or await self._ensure_started()
            await gateway.handle(scope, receive, send)


def create_gateway_app() -> GatewayApp:
    return GatewayApp()
