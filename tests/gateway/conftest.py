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


@pytest.fixture
def start_gateway(request, transactional_db, tmp_path):
    """Return `start(**env) -> GatewayProcess`; each is a uvicorn child bound to a port-0 socket.

    The socket is bound here and handed to uvicorn with `--fd`, so there is no port race.
    """
    sandbox = _optional_fixture(request, "sandbox_server")
    started: list[subprocess.Popen] = []

    def start(**extra_env) -> GatewayProcess:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
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
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "marketplace.asgi:application",
                 "--fd", str(sock.fileno()), "--no-access-log"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, pass_fds=(sock.fileno(),),
            )
        sock.close()
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited:\n{log_path.read_text(errors='replace')}")
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
