"""The request record: one row per /v1 inference request that passed authentication.

Unlike billing's usage record (the money record, one per request that reached a provider),
every request gets one: served, refused before any provider (limits, policy, credit, no
endpoint), failed upstream, or cut off. On PostgreSQL the table is partitioned by month on
`created_at` (migration 0001; `partitions.py` creates and drops months), so its primary key
there is (id, created_at); Django addresses rows by `id` alone, which the sequence keeps unique.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from marketplace.tenancy.models import ApiKey, Organization

# Outcomes: what happened to the request, coarsely (the log's status filter).
SUCCESS = "success"
REFUSED = "refused"  # answered by us before any provider: limits, policy, credit, no endpoint
FAILED = "failed"  # every provider attempt failed, or the provider rejected the request
CANCELLED = "cancelled"  # the client left before the answer ended
OUTCOMES = (SUCCESS, REFUSED, FAILED, CANCELLED)

# Error types: why a request did not succeed (analytics' error-rate breakdown). Empty on success.
ERROR_TYPES = (
    "rate_limit",  # our limits or every provider's 429
    "upstream_5xx",  # providers failed to answer (5xx, connection, breaker open)
    "timeout",  # the deadline passed
    "refusal",  # the provider refused the request (403) or ended with a refusal
    "content_filter",  # the answer was cut by a content filter
    "no_endpoint",  # no endpoint may serve it (catalog, policy narrowing, all breakers open)
    "policy",  # the org's or key's policy denies the model
    "credit",  # the wallet or the key's spend limit cannot pay
    "invalid_request",  # the request itself is wrong (our 400, or the provider's)
    "unavailable",  # our database or queue was unavailable (503)
    "cancelled",  # the client disconnected
    "internal",  # our own 500
)


class RequestRecord(models.Model):
    id = models.BigAutoField(primary_key=True)
    # When the request arrived (the partition key) and when its row was written (the rollup's
    # watermark: a row can arrive after its hour, replayed while the database was down).
    created_at = models.DateTimeField()
    recorded_at = models.DateTimeField(db_default=Now())
    request_id = models.CharField(max_length=64)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, db_index=False,
                            related_name="request_records")
    key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, db_index=False,
                            related_name="request_records")
    # X-Title, else HTTP-Referer's host and path, else "".
    app = models.CharField(max_length=200, blank=True, default="")
    model_requested = models.CharField(max_length=200)
    model_served = models.CharField(max_length=200, blank=True, default="")
    provider = models.CharField(max_length=64, blank=True, default="")
    endpoint_id = models.BigIntegerField(null=True)
    status = models.PositiveSmallIntegerField()  # the HTTP status the caller got
    outcome = models.CharField(max_length=16)
    error_type = models.CharField(max_length=32, blank=True, default="")
    error_message = models.CharField(max_length=300, blank=True, default="")
    finish_reason = models.CharField(max_length=32, blank=True, default="")
    # Every upstream attempt in order: {endpoint_id, provider, status, latency_ms, error, byok?}.
    attempts = models.JSONField(default=list)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    cost_nanos = models.BigIntegerField(default=0)  # what the caller was charged
    latency_ms = models.IntegerField(default=0)
    ttft_ms = models.IntegerField(null=True)
    streamed = models.BooleanField(default=False)
    is_fallback = models.BooleanField(default=False)  # served by other than the first choice
    is_byok = models.BooleanField(default=False)
    is_cached = models.BooleanField(default=False)
    # The request's task label (routing.task_labels), "" if it could not be labelled in time.
    task = models.CharField(max_length=32, blank=True, default="")
    # Identical refusals within one key and minute may share a row (a flood of 429s).
    count = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            # The log's pages and every analytics query: an org's records by time.
            models.Index(fields=["org", "-created_at", "-id"], name="reqrec_org_time"),
            models.Index(fields=["org", "request_id"], name="reqrec_org_request"),
            models.Index(fields=["recorded_at"], name="reqrec_recorded"),
        ]
        constraints = [
            # A replayed batch inserts nothing twice (on PostgreSQL a unique key on a
            # partitioned table must hold the partition key).
            models.UniqueConstraint(fields=["request_id", "created_at"],
                                    name="reqrec_request_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"


# Alerts (issue 13): an org's rules and each crossing's event. The rules' kinds, defaults and
# wording live in observability/alerts/rules.py; the evaluator in observability/alerts/evaluate.py.
class AlertKind(models.TextChoices):
    # The available balance is below the wallet's low-balance threshold (billing's column: the
    # rule here holds only whether it is on).
    LOW_BALANCE = "low_balance", "Low balance"
    DAILY_SPEND = "daily_spend", "Daily spend"  # today's (UTC) spend reached threshold_nanos
    ERROR_RATE = "error_rate", "Error rate"  # over the last 15 minutes, at least min_requests
    KEY_SPEND = "key_spend", "Key near its spend limit"  # per key with a limit, in percent


class AlertRule(models.Model):
    """One kind of alert of one org. An org with no row of a kind has that kind's defaults."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    enabled = models.BooleanField(default=True)
    threshold_nanos = models.BigIntegerField(null=True, blank=True)  # daily_spend
    threshold_percent = models.PositiveSmallIntegerField(null=True, blank=True)  # error, key
    min_requests = models.PositiveIntegerField(null=True, blank=True)  # error_rate
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "kind"], name="alertrule_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of org {self.org_id}"


class AlertEvent(models.Model):
    """One crossing: opened when a rule's condition became true, closed when it stopped.

    `value` and `threshold` are nano-USD for low_balance and daily_spend, basis points (1/100
    of a percent) for error_rate and key_spend. At most one event per org, kind and key is
    open at a time (the partial unique constraints), so two evaluators cannot fire one
    crossing twice; `notified_at` is claimed by a conditional UPDATE before the email goes.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alert_events")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    # key_spend only: the key near its limit (its events go with it).
    key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE,
                            related_name="alert_events")
    fired_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    value = models.BigIntegerField()
    threshold = models.BigIntegerField()
    # What the message needs besides: requests and errors, a key's name, limit and period.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "kind"], condition=Q(cleared_at__isnull=True, key__isnull=True),
                name="alertevent_one_open"),
            models.UniqueConstraint(
                fields=["org", "kind", "key"],
                condition=Q(cleared_at__isnull=True, key__isnull=False),
                name="alertevent_one_open_per_key"),
        ]
        indexes = [
            # The banner's read (an org's open events) and the evaluator's (every open event).
            models.Index(fields=["org"], condition=Q(cleared_at__isnull=True),
                         name="alertevent_open"),
            models.Index(fields=["org", "-fired_at"], name="alertevent_org_fired"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of org {self.org_id} at {self.fired_at}"


# Rollups (observability/rollups.py): the analytics page and API read these, never raw records.
HOUR = "hour"
DAY = "day"
PERIODS = (HOUR, DAY)
# Dimensions: "all" has one group (""); the others group by the model (served, else asked),
# the provider's slug, the key's id, the app's name or the task label ("" when there is none).
ALL = "all"
DIMENSIONS = (ALL, "model", "provider", "key", "app", "task")


class RequestRollup(models.Model):
    """One org's requests in one UTC hour (or day) for one group of one dimension.

    Counts are SUM(count) of the records; tokens and cost are summed exactly (nanos). The
    latency sketch holds served requests' `latency_ms`, the TTFT sketch their non-null `ttft_ms`
    (`core.sketch.DDSketch`, compact JSON). Day rows are merged from the day's hour rows.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, db_index=False,
                            related_name="request_rollups")
    period = models.CharField(max_length=4)  # HOUR or DAY
    start = models.DateTimeField()  # the UTC hour's or day's start
    dimension = models.CharField(max_length=8)
    group = models.CharField(max_length=200, blank=True, default="")
    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    error_types = models.JSONField(default=dict)  # {error_type: requests}
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cost_nanos = models.BigIntegerField(default=0)
    fallbacks = models.BigIntegerField(default=0)
    byok = models.BigIntegerField(default=0)
    latency = models.JSONField(default=dict)
    ttft = models.JSONField(default=dict)
    # This row's own percentiles, read off its sketches when it is written, so a list of
    # buckets reads no sketch; ranges longer than a row merge the sketches instead.
    p50_ms = models.FloatField(null=True)
    p95_ms = models.FloatField(null=True)
    p99_ms = models.FloatField(null=True)
    ttft_p50_ms = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "period", "dimension", "start", "group"],
                                    name="rollup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id} {self.period} {self.start:%Y-%m-%d %H:00} {self.dimension}"


class RollupState(models.Model):
    """The rollup's watermark: records recorded since (minus a margin) are looked at next run."""

    name = models.CharField(max_length=32, primary_key=True)
    watermark = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.watermark:%Y-%m-%d %H:%M:%S}"


class ModelTaskDay(models.Model):
    """Every org's requests to one model on one task in one UTC day: counts only, no org.

    The platform-wide measured quality that sponsored listings' quality score and organic
    recommendations read (`observability/model_quality.py` says what counts as decided and as
    a model error). Recomputed whole from the day's records by `rollups.rollup_requests` each
    time the day is touched. `model` is the model that served, else the one asked for (the
    rollups' model group); `task` is "" for unlabelled requests. Counts are SUM(count).
    """

    day = models.DateField()
    model = models.CharField(max_length=200)
    task = models.CharField(max_length=32, blank=True, default="")
    served = models.BigIntegerField(default=0)  # outcome success
    failed = models.JSONField(default=dict)  # outcome failed: {error_type: requests}
    refused = models.BigIntegerField(default=0)  # by us, before any provider
    cancelled = models.BigIntegerField(default=0)  # the client left

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "model", "task"], name="modeltaskday_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.task or '-'}"
