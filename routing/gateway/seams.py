"""The other apps' functions the gateway calls, imported in one place.

Every call the gateway makes into catalog, billing and tenancy goes through their public
`selectors`/`services`/`hotpath` modules (DESIGN.md section 1); naming them here keeps that
boundary visible in one file.
"""

from __future__ import annotations

from billing.selectors.charging import get_margin_table, get_usage_record
from catalog.selectors import build_routing_snapshot, get_catalog_version, get_endpoint_health
from marketplace.tenancy.keys import hash_api_key, looks_like_api_key
from marketplace.tenancy.selectors import get_key_auth
from marketplace.tenancy.services import record_keys_used

__all__ = ["hash_api_key", "looks_like_api_key", "get_key_auth", "record_keys_used",
           "get_margin_table", "build_routing_snapshot", "get_catalog_version",
           "get_endpoint_health", "get_usage_record"]

