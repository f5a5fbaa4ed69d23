"""Alerts fire once per crossing on real data (billing's services, stored request records):
one email to owners and finance per crossing, nothing while the condition holds, a new email
only after it cleared; each kind; a run's query count does not grow with the orgs."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services.low_balance import set_low_balance_threshold
from billing.services.spend_limits import set_key_spend_limit
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from observability.alerts.evaluate import evaluate_alerts
from observability.alerts.services import set_alert_rule
from observability.models import AlertEvent, AlertKind
from tests.observability.alert_support import USD, charge, credit, records
from tests.tenancy.factories import OrganizationFactory, api_key, member

pytestmark = pytest.mark.django_db

OWNER = Actor(role=Role.OWNER)


def _org_with_team(name="Acme Robotics"):
    org = OrganizationFactory(name=name)
    owner = member(Role.OWNER, org)
    finance = member(Role.FINANCE, org)
    member(Role.DEVELOPER, org)
    member(Role.ADMIN, org)
    return org, owner, finance


def _events(org, kind):
    return list(AlertEvent.objects.filter(org=org, kind=kind).order_by("id"))


def test_low_balance_fires_once_per_crossing_and_again_after_it_cleared(settings):
    settings.PUBLIC_URL = "https://switchyard.example.com"
    org, owner, finance = _org_with_team()
    key, _ = api_key(org)
    credit(org, 10 * USD)
    set_low_balance_threshold(org=org, threshold_nanos=5 * USD, actor=OWNER)
    evaluate_alerts()
    assert mail.outbox == [] and not _events(org, AlertKind.LOW_BALANCE)

    charge(org, key, 6 * USD)  # $4 available: below $5
    for _ in range(3):
        evaluate_alerts()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == sorted([owner.user.email, finance.user.email])
    assert "Acme Robotics" in email.subject and "$4.00" in email.subject
    assert "$5.00" in email.subject
    assert "$4.00 available, below this organization's warning threshold of $5.00" in email.body
    assert "https://switchyard.example.com/dashboard/alerts/" in email.body
    [event] = _events(org, AlertKind.LOW_BALANCE)
    assert event.cleared_at is None and event.value == 4 * USD and event.threshold == 5 * USD

    credit(org, 5 * USD)  # $9: cleared
    evaluate_alerts()
    event.refresh_from_db()
    assert event.cleared_at is not None
    assert len(mail.outbox) == 1

    charge(org, key, 6 * USD)  # $3: a new crossing
    evaluate_alerts()
    evaluate_alerts()
    assert len(mail.outbox) == 2
    first, second = _events(org, AlertKind.LOW_BALANCE)
    assert first.cleared_at is not None and second.cleared_at is None
    assert second.value == 3 * USD


def test_a_zero_threshold_or_a_disabled_rule_fires_nothing_and_closes_what_was_open():
    org, _, _ = _org_with_team()
    evaluate_alerts()  # no wallet: $0 against the default $0.50
    [event] = _events(org, AlertKind.LOW_BALANCE)
    assert event.threshold == 500_000_000 and event.value == 0

    set_alert_rule(org=org, kind=AlertKind.LOW_BALANCE, enabled=False, actor=OWNER)
    evaluate_alerts()
    event.refresh_from_db()
    assert event.cleared_at is not None

    set_alert_rule(org=org, kind=AlertKind.LOW_BALANCE, enabled=True, threshold_nanos=0,
                   actor=OWNER)
    evaluate_alerts()
    assert len(_events(org, AlertKind.LOW_BALANCE)) == 1
    assert len(mail.outbox) == 1


def test_daily_spend_is_off_until_set_then_fires_at_its_threshold():
    org, _, _ = _org_with_team()
    key, _ = api_key(org)
    credit(org, 100 * USD)
    charge(org, key, 2 * USD)
    evaluate_alerts()
    assert not _events(org, AlertKind.DAILY_SPEND)

    set_alert_rule(org=org, kind=AlertKind.DAILY_SPEND, enabled=True, threshold_nanos=3 * USD,
                   actor=OWNER)
    evaluate_alerts()
    assert not _events(org, AlertKind.DAILY_SPEND)
    charge(org, key, 1_500_000_000)
    evaluate_alerts()
    evaluate_alerts()
    [event] = _events(org, AlertKind.DAILY_SPEND)
    assert event.value == 3_500_000_000 and event.threshold == 3 * USD
    [email] = mail.outbox
    assert "$3.50 spent today (UTC)" in email.body and "$3.00" in email.subject

    # Raising the threshold above today's spend clears it.
    set_alert_rule(org=org, kind=AlertKind.DAILY_SPEND, threshold_nanos=10 * USD, actor=OWNER)
    evaluate_alerts()
    event.refresh_from_db()
    assert event.cleared_at is not None


def test_error_rate_needs_enough_requests_counts_aggregated_rows_and_only_15_minutes():
    org, _, _ = _org_with_team()
    credit(org, 100 * USD)
    records(org, failed=19)  # 100% of 19: under the default minimum of 20 requests
    records(org, failed=40, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))  # too old
    evaluate_alerts()
    assert not _events(org, AlertKind.ERROR_RATE)

    # 19 failures + 30 successes + one row standing for 20 refusals: 39 of 69 (56.52%).
    records(org, ok=30, refused=1, refused_count=20)
    evaluate_alerts()
    evaluate_alerts()
    [event] = _events(org, AlertKind.ERROR_RATE)
    assert event.detail == {"requests": 69, "errors": 39}
    assert event.value == 5652 and event.threshold == 2500
    [email] = mail.outbox
    assert "39 of 69 requests in the last 15 minutes did not succeed (56.52%)" in email.body

    # A higher threshold than the rate: cleared.
    set_alert_rule(org=org, kind=AlertKind.ERROR_RATE, threshold_percent=60, actor=OWNER)
    evaluate_alerts()
    event.refresh_from_db()
    assert event.cleared_at is not None


def test_error_rate_minimum_is_the_rules():
    org, _, _ = _org_with_team()
    credit(org, 100 * USD)
    set_alert_rule(org=org, kind=AlertKind.ERROR_RATE, threshold_percent=50, min_requests=4,
                   actor=OWNER)
    records(org, ok=2, failed=2)
    evaluate_alerts()
    [event] = _events(org, AlertKind.ERROR_RATE)
    assert event.value == 5000 and event.threshold == 5000


def test_a_key_near_its_spend_limit_fires_per_key():
    org, _, _ = _org_with_team()
    credit(org, 100 * USD)
    busy, _ = api_key(org, name="batch jobs")
    other, _ = api_key(org, name="web")
    for key in (busy, other):
        set_key_spend_limit(org=org, key_id=key.pk, limit_nanos=10 * USD, period="day",
                            actor=OWNER)
    charge(org, busy, 8 * USD)
    evaluate_alerts()
    assert not _events(org, AlertKind.KEY_SPEND)  # 80% < the default 90%

    charge(org, busy, 1_500_000_000)
    charge(org, other, 9 * USD)
    evaluate_alerts()
    evaluate_alerts()
    events = _events(org, AlertKind.KEY_SPEND)
    assert {(e.key_id, e.value) for e in events} == {(busy.pk, 9500), (other.pk, 9000)}
    assert len(mail.outbox) == 2
    body = next(m.body for m in mail.outbox if "batch jobs" in m.subject)
    assert "spent $9.50 of its daily limit of $10.00 (95%)" in body

    # A higher limit clears that key's alert only.
    set_key_spend_limit(org=org, key_id=busy.pk, limit_nanos=100 * USD, period="day",
                        actor=OWNER)
    evaluate_alerts()
    open_keys = set(AlertEvent.objects.filter(org=org, kind=AlertKind.KEY_SPEND,
                                              cleared_at__isnull=True)
                    .values_list("key_id", flat=True))
    assert open_keys == {other.pk}


def test_an_email_that_fails_is_sent_by_a_later_run(settings):
    org, _, _ = _org_with_team()
    settings.EMAIL_BACKEND = "tests.observability.failing_mail.Backend"
    evaluate_alerts()
    [event] = _events(org, AlertKind.LOW_BALANCE)
    assert event.notified_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    evaluate_alerts()
    evaluate_alerts()
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.notified_at is not None


def test_a_run_costs_the_same_queries_for_2_or_12_orgs():
    def run() -> int:
        evaluate_alerts()  # the crossings of the new orgs (emails) happen here
        with CaptureQueriesContext(connection) as queries:
            evaluate_alerts()  # nothing changes: the steady state
        return len(queries)

    def add_orgs(n: int) -> None:
        for _ in range(n):
            org, _, _ = _org_with_team()
            credit(org, 10 * USD)
            records(org, ok=3)
            set_alert_rule(org=org, kind=AlertKind.DAILY_SPEND, enabled=True,
                           threshold_nanos=USD, actor=OWNER)

    add_orgs(2)
    few = run()
    add_orgs(10)
    many = run()
    assert few == many <= 10


def test_requests_the_client_cancelled_are_no_errors(db):
    """A client that leaves is not the service failing: 30 cancelled requests page nobody."""
    from observability.recording import RequestRow, store_request_records

    owner = member(Role.OWNER)
    now = dt.datetime.now(dt.UTC)
    store_request_records([RequestRow(
        request_id=f"gen-cancel-{i}", created_at=now, org_id=owner.org.pk, key_id=None,
        model_requested="openai/gpt-4o-mini", status=499, outcome="cancelled",
        error_type="cancelled") for i in range(30)])

    evaluate_alerts()

    assert not AlertEvent.objects.filter(org=owner.org, kind="error_rate").exists()
