"""Two evaluations at once (two threads, each with its own PostgreSQL connection) open one
event and send one email per crossing: the open event's partial unique constraint and the
conditional UPDATE that claims the email decide, not timing."""

import threading

import pytest
from django.core import mail
from django.db import connection

from billing.services.low_balance import set_low_balance_threshold
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from observability.alerts.evaluate import evaluate_alerts
from observability.models import AlertEvent, AlertKind
from tests.observability.alert_support import USD, charge, credit
from tests.tenancy.factories import api_key, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 2


def _evaluate_together() -> list[BaseException]:
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait(timeout=10)
            evaluate_alerts()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_evaluations_at_once_send_one_email_per_crossing():
    orgs = []
    for _ in range(5):  # several crossings per round: more chances for the two to collide
        m = member(Role.OWNER)
        key, _ = api_key(m.org)
        credit(m.org, 10 * USD)
        set_low_balance_threshold(org=m.org, threshold_nanos=5 * USD,
                                  actor=Actor(role=Role.OWNER))
        orgs.append((m.org, key))

    for round_ in range(1, 4):
        for org, key in orgs:
            charge(org, key, 6 * USD)  # below the threshold: a crossing
        assert _evaluate_together() == []
        assert len(mail.outbox) == len(orgs) * round_
        assert AlertEvent.objects.filter(kind=AlertKind.LOW_BALANCE,
                                         cleared_at__isnull=True).count() == len(orgs)
        for org, _ in orgs:
            credit(org, 6 * USD)  # back above: cleared by the next run
        assert _evaluate_together() == []
        assert not AlertEvent.objects.filter(cleared_at__isnull=True).exists()
    assert AlertEvent.objects.count() == 3 * len(orgs)
