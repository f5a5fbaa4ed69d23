"""The ASGI entry point: `/v1/` goes straight to the gateway, `/metrics` to the metrics app,
everything else to Django.

The gateway shares Django's settings and models but not its request cycle or middleware:
Django's cycle alone costs ~1 ms CPU a request, a lean ASGI app a few hundredths of that.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

from django.core.asgi import get_asgi_application  # noqa: E402  (needs the settings env first)

django_app = get_asgi_application()

from marketplace.metrics import MetricsApp  # noqa: E402
from routing.gateway.app import create_gateway_app  # noqa: E402  (needs apps loaded)
from routing.gateway.metrics import GatewayStateCollector  # noqa: E402

gateway_app = create_gateway_app()
# Prometheus text without Django's request cycle: a scrape costs the exposition only.
metrics_app = MetricsApp(local=[GatewayStateCollector(lambda: gateway_app.gateway)])


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        # Only the gateway has start-up work (HTTP pools, routing snapshot, writer).
        await gateway_app(scope, receive, send)
        return
    path = scope.get("path", "")
    if path == "/v1" or path.startswith("/v1/"):
        await gateway_app(scope, receive, send)
    elif path == "/metrics" and scope["type"] == "http":
        await metrics_app(scope, receive, send)
    else:
        await django_app(scope, receive, send)
