"""The gateway's one door into the other apps: all it uses of catalog, billing, compliance, tenancy
and observability.

Every other module of `routing.gateway` imports these names from here, never from those apps
(an import-linter contract in pyproject.toml enforces it), so the gateway's whole dependency on
the Django side is this list: the apps' public `selectors`/`services`, billing's hot-path writer
and pricing rules, and the catalog's routing snapshot types (ARCHITECTURE.md, "Dependency
arrows" and "The hot path").
"""

from __future__ import annotations

from billing.hotpath import Admission, Settlement, create_writer
from billing.pricing import MarginTable, caller_price_nanos, cap_to_hold, compute_charge
from billing.selectors.spend import (
    get_key_usage,
    get_margin_table,
    get_org_credits,
    get_usage_record,
)
from catalog.openrouter import endpoints_listing_payload, models_list_payload
from catalog.selectors import build_routing_snapshot, get_catalog_stamp, get_endpoint_health
from catalog.snapshot import EndpointView, ProviderView, RoutingSnapshot
from compliance.byok import mark_byok_rejected
from compliance.content_log import ContentRow, store_contents
from compliance.fanout import COMPLIANCE_CHANGED_CHANNEL
from compliance.receipts import SignedReceipt, SigningKey, issue_receipt, signing_keys
from compliance.selectors import get_caller_rules
from marketplace.tenancy.key_services import REVOKED_KEYS_CHANNEL, record_keys_used
from marketplace.tenancy.keys import hash_api_key, looks_like_api_key
from marketplace.tenancy.selectors import get_key_auth
from observability.models import CANCELLED, FAILED, REFUSED, SUCCESS
from observability.recording import RequestRow, store_request_records

__all__ = [
    # tenancy: org API keys
    "hash_api_key", "looks_like_api_key", "get_key_auth", "record_keys_used",
    "REVOKED_KEYS_CHANNEL",
    # compliance: each caller's policies and BYOK keys, the channel announcing changes, and
    # the report of a BYOK key its provider refused
    "get_caller_rules", "COMPLIANCE_CHANGED_CHANNEL", "mark_byok_rejected",
    # compliance: signed receipts (keys loaded at start-up) and content logging's batch insert
    "SigningKey", "SignedReceipt", "signing_keys", "issue_receipt", "ContentRow", "store_contents",
    # catalog: the routing snapshot and the OpenRouter-shaped listings
    "build_routing_snapshot", "get_catalog_stamp", "get_endpoint_health", "EndpointView",
    "ProviderView", "RoutingSnapshot", "endpoints_listing_payload", "models_list_payload",
    # billing: the hot-path writer, pricing rules and the reads behind /v1/key, /v1/credits,
    # /v1/generation
    "Admission", "Settlement", "create_writer", "MarginTable", "cap_to_hold", "compute_charge",
    "caller_price_nanos", "get_margin_table", "get_usage_record", "get_key_usage",
    "get_org_credits",
    # observability: the request record of every inference request, stored in batches
    "RequestRow", "store_request_records", "SUCCESS", "REFUSED", "FAILED", "CANCELLED",
]
