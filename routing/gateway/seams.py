"""The other apps' functions the gateway calls, imported in one place.

Every call the gateway makes into catalog, billing and tenancy goes through their public
`selectors`/`services`/`hotpath` modules (DESIGN.md section 1); naming them here keeps that
boundary visible in one file.
"""

from __future__ import annotations

from catalog.snapshot import RoutingSnapshot
from marketplace.tenancy.keys import hash_api_key, looks_like_api_key
from marketplace.tenancy.selectors import get_key_auth
from marketplace.tenancy.services import record_keys_used

try:
    from catalog.selectors import build_routing_snapshot as _build_snapshot
    from catalog.selectors import get_catalog_version as _catalog_version
except ImportError:  # catalog not landed yet: an empty snapshot
    _build_snapshot = None
    _catalog_version = None

from billing.selectors.charging import get_margin_table

__all__ = ["hash_api_key", "looks_like_api_key", "get_key_auth", "record_keys_used",
           "get_margin_table"]


def get_catalog_version() -> str | None:
    return _catalog_version() if _catalog_version else None


def build_routing_snapshot(sandbox_base_url: str | None) -> RoutingSnapshot:
    if _build_snapshot is None:
        return RoutingSnapshot(version="empty")
    return _build_snapshot(sandbox_base_url=sandbox_base_url)
