"""Gateway fixtures: a real uvicorn process of marketplace.asgi on the test database.

The child gets the test database's URL, the parent's REDIS_URL, and (when the suite defines
the `sandbox_server` fixture) the sandbox's port, so `/v1` runs exactly as in production:
real sockets, real authentication, real billing writer, real provider wire formats.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from marketplace.tenancy.key_services import create_api_key
from marketplace.tenancy.models import KeyScope, Role
from marketplace.tenancy.roles import Actor
from marketplace.tenancy.services import create_organization


@pytest.fixture
def start_gateway(start_gateway_server):
    """Return `start(**env)`: a uvicorn child of its own, for tests that reconfigure or kill it.

    The launcher is shared with the browser tests (tests/fixtures/live_server.py).
    """
    return start_gateway_server


@pytest.fixture
def gateway(request, shared_gateway):
    """The worker's shared gateway (tests/fixtures/shared_gateway.py), serving this test's catalog.

    With `sandbox_catalog`, waits until the server's `/v1/models` lists this test's models (the
    catalog of an earlier test has the same slugs but another description).
    """
    if "sandbox_catalog" in request.fixturenames:
        catalog = request.getfixturevalue("sandbox_catalog")
        key = (request.getfixturevalue("funded_key") if "funded_key" in request.fixturenames
               else request.getfixturevalue("make_org_key")())
        wait_for_models(shared_gateway, key.plaintext,
                        {slug: model.description for slug, model in catalog.models.items()},
                        endpoints=catalog.endpoint_counts())
    return shared_gateway


def wait_for_models(server, plaintext: str, expected: dict[str, str], timeout_s: float = 30,
                    endpoints: dict[str, int] | None = None):
    """Wait until `GET /v1/models` lists every slug of `expected` with its description and, for
    each slug of `endpoints`, `/v1/models/{slug}/endpoints` lists that many endpoints. A snapshot
    rebuilt while a fixture was still writing can hold a model without all of its endpoints."""
    deadline = time.monotonic() + timeout_s
    headers = {"Authorization": f"Bearer {plaintext}"}
    while True:
        response = httpx.get(f"{server.url}/v1/models", headers=headers, timeout=10)
        listed = ({m["id"]: m["description"] for m in response.json()["data"]}
                  if response.status_code == 200 else {})
        if (all(listed.get(slug) == text for slug, text in expected.items())
                and _endpoint_counts(server, headers, endpoints or {}) == (endpoints or {})):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the gateway did not pick up the catalog in {timeout_s}s: "
                                 f"{response.status_code} {listed}\n{server.log_text()[-4000:]}")
        time.sleep(0.05)


def _endpoint_counts(server, headers: dict, slugs) -> dict[str, int]:
    counts = {}
    for slug in slugs:
        response = httpx.get(f"{server.url}/v1/models/{slug}/endpoints", headers=headers,
                             timeout=10)
        counts[slug] = (len(response.json()["data"]["endpoints"])
                        if response.status_code == 200 else -1)
    return counts


@dataclass
class OrgKey:
    org: object
    key: object
    plaintext: str


@pytest.fixture
def make_org_key(django_user_model):
    """Return `make(scope=..., expires_at=...) -> OrgKey`, minted through tenancy's service."""
    counter = iter(range(1_000_000))

    def make(*, org=None, scope: str = KeyScope.INFERENCE, expires_at=None) -> OrgKey:
        n = next(counter)
        user = django_user_model.objects.create_user(
            username=f"gw{n}-{time.monotonic_ns()}@example.com",
            email=f"gw{n}-{time.monotonic_ns()}@example.com", password="Correct-Horse-9")
        if org is None:
            org = create_organization(name=f"Gateway Org {n}", owner=user)
        key, plaintext = create_api_key(org=org, name=f"key {n}", scope=scope,
                                        actor=Actor(role=Role.OWNER, user=user),
                                        expires_at=expires_at)
        return OrgKey(org=org, key=key, plaintext=plaintext)

    return make


SANDBOX_PROVIDERS = (
    ("sandbox-openai", "Sandbox OpenAI", "openai"),
    ("sandbox-openai-b", "Sandbox OpenAI B", "openai"),
    ("sandbox-anthropic", "Sandbox Anthropic", "anthropic"),
    ("sandbox-gemini", "Sandbox Gemini", "gemini"),
)
OPENAI_PARAMS = ["frequency_penalty", "max_tokens", "presence_penalty", "response_format",
                 "seed", "stop", "structured_outputs", "temperature", "tool_choice", "tools",
                 "top_p"]
# $0.15 / $0.60 per million tokens (gpt-4o-mini's list price), and a dearer second provider.
MINI_PRICE = {"input_nanos_per_m": 150_000_000, "output_nanos_per_m": 600_000_000}
MINI_PRICE_B = {"input_nanos_per_m": 300_000_000, "output_nanos_per_m": 1_200_000_000}
CLAUDE_PRICE = {"input_nanos_per_m": 3_000_000_000, "output_nanos_per_m": 15_000_000_000}
GEMINI_PRICE = {"input_nanos_per_m": 300_000_000, "output_nanos_per_m": 2_500_000_000}


@dataclass
class SandboxCatalog:
    providers: dict
    models: dict
    endpoints: dict  # (model slug, provider slug) -> Endpoint

    def endpoint_counts(self) -> dict[str, int]:
        return {slug: sum(1 for model_slug, _ in self.endpoints if model_slug == slug)
                for slug in self.models}


@pytest.fixture
def sandbox_catalog(transactional_db) -> SandboxCatalog:
    """A small catalog routed to the sandbox providers, built through catalog's services."""
    return build_sandbox_catalog()


def build_sandbox_catalog() -> SandboxCatalog:
    from catalog import services as catalog_services

    providers = {
        slug: catalog_services.create_provider(
            slug=slug, name=name, wire_format=wire,
            base_url=f"sandbox://{slug}/v1" if wire == "openai" else f"sandbox://{slug}",
            regions=["local"], retention_days=0, zdr=True, is_sandbox=True)
        for slug, name, wire in SANDBOX_PROVIDERS
    }
    specs = {
        "openai/gpt-4o-mini": [("sandbox-openai", "gpt-4o-mini", MINI_PRICE),
                               ("sandbox-openai-b", "gpt-4o-mini", MINI_PRICE_B)],
        "anthropic/claude-sonnet-4": [("sandbox-anthropic", "claude-sonnet-4", CLAUDE_PRICE)],
        "google/gemini-2.5-flash": [("sandbox-gemini", "gemini-2.5-flash", GEMINI_PRICE)],
    }
    models, endpoints = {}, {}
    # Tells this catalog from an earlier test's identical one on a shared gateway.
    description = f"Sandbox catalog {uuid.uuid4().hex[:12]}"
    for slug, serving in specs.items():
        models[slug] = catalog_services.create_model(
            slug=slug, name=slug.split("/")[1], description=description, context_length=128_000,
            input_modalities=["text", "image"], output_modalities=["text"],
            supports_tools=True, supports_json_schema=True)
        for provider_slug, upstream_id, price in serving:
            endpoints[(slug, provider_slug)] = catalog_services.create_endpoint(
                model=models[slug], provider=providers[provider_slug],
                upstream_model_id=upstream_id, context_length=128_000,
                max_output_tokens=16_384, supported_parameters=OPENAI_PARAMS,
                input_modalities=["text", "image"], price=dict(price))
    return SandboxCatalog(providers, models, endpoints)


def fund(org, amount_nanos: int, memo: str = "gateway test credit") -> None:
    from billing.services.ledger import grant_promotional_credit

    grant_promotional_credit(org, amount_nanos, memo=memo,
                             idempotency_key=f"test-{org.pk}-{time.monotonic_ns()}")


@pytest.fixture
def funded_key(make_org_key) -> OrgKey:
    """An inference key of an org holding $10 of credit."""
    org_key = make_org_key()
    fund(org_key.org, 10 * 1_000_000_000)
    return org_key
