"""The loopback-only control API: fault profiles, the request log and resets."""

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from routing.sandbox.faults import FaultProfile, ProfileError, Registry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(peer: str | None) -> bool:
    """True only for a loopback peer address (127.0.0.0/8, ::1, IPv4-mapped loopback)."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _json(value: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status, content_type="application/json")


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_control/") and not is_loopback(request.remote):
        return _json({"error": "the control API answers loopback peers only"}, 403)
    return await handler(request)


def add_routes(app: web.Application, key: web.AppKey[Registry]) -> None:
    app.middlewares.append(loopback_only)

    async def health(request: web.Request) -> web.Response:
        return _json({"ok": True})

    async def put_fault(request: web.Request) -> web.Response:
        try:
            profile = FaultProfile.parse(orjson.loads(await request.read() or b"{}"))
        except (ProfileError, orjson.JSONDecodeError) as exc:
            return _json({"error": str(exc)}, 400)
        request.app[key].get(request.match_info["slug"]).set_profile(profile)
        return _json({"slug": request.match_info["slug"], "fault": _profile(profile)})

    async def get_fault(request: web.Request) -> web.Response:
        return _json(_profile(request.app[key].get(request.match_info["slug"]).profile))

    async def delete_fault(request: web.Request) -> web.Response:
        request.app[key].get(request.match_info["slug"]).set_profile(FaultProfile())
        return _json({"cleared": request.match_info["slug"]})

    async def delete_faults(request: web.Request) -> web.Response:
        request.app[key].clear_faults()
        return _json({"cleared": "all"})

    async def get_requests(request: web.Request) -> web.Response:
        return _json(list(request.app[key].get(request.match_info["slug"]).requests))

    async def delete_requests(request: web.Request) -> web.Response:
        request.app[key].get(request.match_info["slug"]).requests.clear()
        return _json({"cleared": request.match_info["slug"]})

    async def delete_cache(request: web.Request) -> web.Response:
        request.app[key].get(request.match_info["slug"]).cache.clear()
        return _json({"cleared": request.match_info["slug"]})

    async def reset(request: web.Request) -> web.Response:
        request.app[key].reset()
        return _json({"reset": "all"})

    routes = app.router
    routes.add_get("/_control/health", health)
    routes.add_put("/_control/providers/{slug}/fault", put_fault)
    routes.add_get("/_control/providers/{slug}/fault", get_fault)
    routes.add_delete("/_control/providers/{slug}/fault", delete_fault)
    routes.add_delete("/_control/faults", delete_faults)
    routes.add_get("/_control/providers/{slug}/requests", get_requests)
    routes.add_delete("/_control/providers/{slug}/requests", delete_requests)
    routes.add_delete("/_control/providers/{slug}/cache", delete_cache)
    routes.add_post("/_control/reset", reset)


def _profile(profile: FaultProfile) -> dict[str, Any]:
    shown = vars(profile).items()
    return {k: v for k, v in shown if v not in (None, False, 0) or k == "error_rate"}
