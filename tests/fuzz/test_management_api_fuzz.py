"""Schemathesis over the management API's own OpenAPI schema: no 5xx, answers match the schema.

The schema is what `/api/schema/` serves; every operation is called in-process through Django's
WSGI handler (the test database, no server) with valid and invalid inputs, authenticated with a
management key of an org that has members, keys and a spend limit (catalog writes: a staff
session). Half the cases name objects that exist (so writes reach the services), half random
ids. Bounded: a few examples per operation and mode, so the run stays well under a minute.
"""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from billing.services.spend_limits import set_key_spend_limit
from catalog import services as catalog_services
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


@pytest.fixture
def existing():
    """An org with an owner, a second member, keys, a spend limit; a catalog model/endpoint."""
    owner = member(Role.OWNER)
    other = member(Role.DEVELOPER, org=owner.org)
    _, plaintext = api_key(owner.org, scope="management")
    inference, _ = api_key(owner.org)
    set_key_spend_limit(org=owner.org, key_id=inference.pk, limit_nanos=10**9, period="day",
                        actor=Actor(role=Role.OWNER))
    provider = catalog_services.create_provider(
        slug="fuzz-provider", name="Fuzz", wire_format="openai",
        base_url="https://fuzz.example/v1", regions=["us"], retention_days=0, zdr=True)
    model = catalog_services.create_model(
        slug="fuzz/model", name="Fuzz model", context_length=8_000, input_modalities=["text"],
        output_modalities=["text"])
    endpoint = catalog_services.create_endpoint(
        model=model, provider=provider, upstream_model_id="m", context_length=8_000,
        max_output_tokens=1_000, supported_parameters=["temperature"],
        input_modalities=["text"],
        price={"input_nanos_per_m": 10**8, "output_nanos_per_m": 2 * 10**8})
    ids = {"org_id": owner.org_id, "key_id": inference.pk, "member_id": other.pk,
           "endpoint_id": endpoint.pk, "slug": provider.slug, "author": "fuzz"}
    return owner, plaintext, ids


def _failures(operation, mode, call_kwargs, ids) -> list[str]:
    found: list[str] = []

    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real_ids=st.booleans())
    def run(case, real_ids):
        if real_ids and case.path_parameters:
            case.path_parameters = {name: ids.get(name, value)
                                    for name, value in case.path_parameters.items()}
            if operation.path.startswith("/api/v1/catalog/models/"):
                case.path_parameters["slug"] = "model"
        response = case.call(**call_kwargs)
        try:
            case.validate_response(response, checks=CHECKS, headers=call_kwargs.get("headers"))
        except BaseException as error:  # schemathesis raises a FailureGroup (an ExceptionGroup)
            # Collected, not raised: one report for every operation instead of the first alone.
            found.append(f"{operation.label} [{mode.value}]: {str(error)[:1200]}")

    run()
    return found[:1]


def _fuzz(app, call_kwargs, ids, *, only=lambda operation: True) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if only(operation):
            for mode in EXAMPLES:
                failures += _failures(operation, mode, call_kwargs, ids)
    return failures


def test_management_api_never_5xx_and_answers_match_its_schema(wsgi_app, existing):
    owner, plaintext, ids = existing
    headers = {"Authorization": f"Bearer {plaintext}", "X-Switchyard-Org": str(owner.org_id)}
    failures = _fuzz(wsgi_app, {"headers": headers}, ids)
    assert not failures, "\n\n".join(failures)


def test_catalog_curation_by_staff_never_5xx(wsgi_app, existing, django_user_model):
    """Catalog writes are for staff sessions (keys have no user): fuzz those with one."""
    _, _, ids = existing
    staff = django_user_model.objects.create_user(
        username="curator", email="curator@example.com", password="Correct-Horse-9",
        is_staff=True)
    client = Client()
    client.force_login(staff)
    token = _get_new_csrf_string()
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    call_kwargs = {
        "headers": {"X-CSRFToken": token},
        "cookies": {django_settings.SESSION_COOKIE_NAME: session,
                    django_settings.CSRF_COOKIE_NAME: token},
    }
    failures = _fuzz(wsgi_app, call_kwargs, ids, only=lambda operation: operation.path.startswith(
        "/api/v1/catalog/") and operation.method.upper() != "GET")
    assert not failures, "\n\n".join(failures)
