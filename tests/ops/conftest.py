"""The gateway fixtures (a real uvicorn child on the test database, the sandbox providers)."""

from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    funded_key,
    gateway,
    make_org_key,
    sandbox_catalog,
)
