"""Gateway fixtures: a real uvicorn process of marketplace.asgi on the test database.

The child gets the test database's URL, the parent's REDIS_URL, and (when the suite defines
the `sandbox_server` fixture) the sandbox's port, so `/v1` runs exactly as in production:
real sockets, real authentication, real billing writer, real provider wire formats.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection

from marketplace.tenancy.models import KeyScope, Role
from marketplace.tenancy.roles import Actor
from marketplace.tenancy.services import create_api_key, create_organization

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _database_url() -> str:
    db = connection.settings_dict
    if settings.IS_POSTGRES:
        user = quote(db.get("USER") or "", safe="")
        password = db.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        return (f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
                f"{quote(db['NAME'], safe='')}")
    return f"sqlite:///{db['NAME']}"


def _optional_fixture(request, name):
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class _PortTaken(Exception):
    pass


def _free_port() -> int:
    # Another process may take it before uvicorn binds; start() retries on a new port then.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_gateway(request, transactional_db, tmp_path):
    """Return `start(**env) -> GatewayProcess`: a uvicorn child on an OS-assigned port."""
    sandbox = _optional_fixture(request, "sandbox_server")
    started: list[subprocess.Popen] = []

    def start(**extra_env) -> GatewayProcess:
        for _attempt in range(3):
            port = _free_port()
            try:
                return _launch(port, extra_env)
            except _PortTaken:
                continue
        raise RuntimeError("no free port for the gateway after 3 tries")

    def _launch(port: int, extra_env: dict) -> GatewayProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DB_POOL_MAX": "3",
            "SANDBOX": "1",
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
        if sandbox is not None:
            base = str(sandbox.base_url).rstrip("/")
            env["SANDBOX_PORT"] = base.rsplit(":", 1)[-1].split("/", 1)[0]
            env["SANDBOX_BASE_URL"] = base
        env.update({k: str(v) for k, v in extra_env.items()})
        log_path = tmp_path / f"gateway-{len(started)}.log"
        # --port, not --fd: uvicorn takes an inherited fd for a unix socket, which would leave
        # Nagle's algorithm on the accepted TCP connections.
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "marketplace.asgi:application",
                 "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                text = log_path.read_text(errors="replace")
                if "address already in use" in text.lower():
                    raise _PortTaken
                raise RuntimeError(f"gateway exited:\n{text}")
            try:
                httpx.get(f"{url}/v1/models", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gateway not up:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        return GatewayProcess(url=url, process=process, log_path=log_path)

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def gateway(start_gateway) -> GatewayProcess:
    return start_gateway()


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


@pytest.fixture
def sandbox_catalog(transactional_db) -> SandboxCatalog:
    """A small catalog routed to the sandbox providers, built through catalog's services."""
    from catalog import services as catalog_services

    providers = {
        slug: catalog_services.create_provider(
            slug=slug, name=name, wire_format=wire, base_url=f"sandbox://{slug}",
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
    for slug, serving in specs.items():
        models[slug] = catalog_services.create_model(
            slug=slug, name=slug.split("/")[1], context_length=128_000,
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
