"""Schemathesis over the management API's own OpenAPI schema: no 5xx, answers match the schema.

The schema is what `/api/schema/` serves; every operation is called in-process through Django's
WSGI handler (the test database, no server), authenticated with a management key of an org
that has members, keys and a spend limit, with valid and invalid inputs. Bounded: a few
examples per operation and mode, so the run stays well under a minute.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from billing.services.spend_limits import set_key_spend_limit
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db

EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 6, schemathesis.GenerationMode.NEGATIVE: 5}
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, minus closing the connection per request (as its test client).

    The test's transaction lives on that connection; closing it would lose the data.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _failures(operation, mode, headers) -> list[str]:
    found: list[str] = []

    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseException as error:  # schemathesis raises a FailureGroup (an ExceptionGroup)
            # Collected, not raised: one report for every operation instead of the first alone.
            found.append(f"{operation.label} [{mode.value}]: {str(error)[:1200]}")

    run()
    return found[:1]


def test_management_api_never_5xx_and_answers_match_its_schema(wsgi_app):
    owner = member(Role.OWNER)
    key, plaintext = api_key(owner.org, scope="management")
    inference, _ = api_key(owner.org)
    set_key_spend_limit(org=owner.org, key_id=inference.pk, limit_nanos=10**9, period="day",
                        actor=Actor(role=Role.OWNER))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Bearer {plaintext}", "X-Switchyard-Org": str(owner.org_id)}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in EXAMPLES:
            failures += _failures(operation, mode, headers)
    assert not failures, "\n\n".join(failures)
