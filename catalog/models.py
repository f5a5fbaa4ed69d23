"""The catalog: providers, canonical models, endpoints (model x provider), versioned prices, health.

Catalog tables are global reference data (no org column). Money is integer nano-USD; prices are
nano-USD per million tokens (ARCHITECTURE.md, "Money"). A price row is never edited once usage may
point at it: a change is a new row with a later `effective_from` (UsageRecord.price_id keeps the
old one).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.upstream_urls import UpstreamURLError, check_base_url, parse_networks


class WireFormat(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible"
    ANTHROPIC = "anthropic", "Anthropic Messages"
    GEMINI = "gemini", "Gemini generateContent"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class Provider(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    wire_format = models.CharField(max_length=16, choices=WireFormat.choices)
    # The URL each wire's official SDK takes as its base: for OpenAI-compatible providers with
    # the version path (https://api.openai.com/v1, https://api.deepinfra.com/v1/openai), to
    # which the adapter appends /chat/completions; for Anthropic and Gemini the root, to which
    # it appends /v1/messages or /v1beta/models/<m>:generateContent. Sandbox providers store
    # `sandbox://<slug>[/v1]`, resolved by the snapshot builder to the sandbox's address.
    base_url = models.CharField(max_length=300)
    regions = models.JSONField(default=list, blank=True)
    # Data policy. retention_days None: unknown; 0: prompts not retained.
    retention_days = models.IntegerField(null=True, blank=True)
    trains_on_data = models.BooleanField(default=False)
    zdr = models.BooleanField(default=False, help_text="Zero data retention offered.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_sandbox = models.BooleanField(default=False)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            validate_base_url(self.base_url)
        except ValidationError as exc:
            raise ValidationError({"base_url": exc.messages}) from exc


def validate_base_url(url: str, *, resolve_names: bool = True) -> None:
    """Refuse a provider URL the gateway must not call (core/upstream_urls.py says which).

    Run by every write path (admin, the REST API, services, the importer), so one staff
    password cannot point every tenant's prompts and the platform's keys at an internal host.
    """
    allowed = parse_networks(settings.UPSTREAM_ALLOWED_NETWORKS)
    kwargs = {} if resolve_names else {"resolve": None}
    try:
        check_base_url(url or "", allowed, **kwargs)
    except UpstreamURLError as exc:
        raise ValidationError(f"Refused base URL: {exc}.", code="upstream_url") from exc


class Model(models.Model):
    """A canonical model, named `author/name` as OpenRouter names it."""

    slug = models.CharField(max_length=200, unique=True)
    author = models.CharField(max_length=80, db_index=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    context_length = models.IntegerField(default=0)
    input_modalities = models.JSONField(default=list)
    output_modalities = models.JSONField(default=list)
    supports_tools = models.BooleanField(default=False)
    supports_json_schema = models.BooleanField(default=False)
    supports_vision = models.BooleanField(default=False)
    supports_reasoning = models.BooleanField(default=False)
    supports_prompt_caching = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    released_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Endpoint(models.Model):
    """One model served by one provider."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="endpoints")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="endpoints")
    upstream_model_id = models.CharField(max_length=200)
    context_length = models.IntegerField(default=0)
    max_output_tokens = models.IntegerField(default=0)
    quantization = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=40, blank=True)
    supported_parameters = models.JSONField(default=list, blank=True)
    input_modalities = models.JSONField(default=list)
    output_modalities = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model__slug", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["model", "provider"], name="endpoint_unique_model_prov")
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} @ {self.provider.slug}"


class Price(models.Model):
    """One price version of an endpoint; in force from `effective_from` until the next one."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="prices")
    effective_from = models.DateTimeField()
    input_nanos_per_m = models.BigIntegerField()
    output_nanos_per_m = models.BigIntegerField()
    cache_read_nanos_per_m = models.BigIntegerField(default=0)
    cache_write_nanos_per_m = models.BigIntegerField(default=0)
    # 0: reasoning tokens bill at the output price.
    reasoning_nanos_per_m = models.BigIntegerField(default=0)
    request_nanos = models.BigIntegerField(default=0)
    image_nanos = models.BigIntegerField(default=0)
    source = models.CharField(max_length=300, blank=True)
    source_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["endpoint_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "effective_from"], name="price_unique_endpoint_from"
            ),
            models.CheckConstraint(
                condition=Q(input_nanos_per_m__gte=0, output_nanos_per_m__gte=0,
                            cache_read_nanos_per_m__gte=0, cache_write_nanos_per_m__gte=0,
                            reasoning_nanos_per_m__gte=0, request_nanos__gte=0,
                            image_nanos__gte=0),
                name="price_nonnegative",
            ),
        ]

    NANOS_FIELDS = (
        "input_nanos_per_m", "output_nanos_per_m", "cache_read_nanos_per_m",
        "cache_write_nanos_per_m", "reasoning_nanos_per_m", "request_nanos", "image_nanos",
    )

    def __str__(self) -> str:
        return f"price {self.pk} of endpoint {self.endpoint_id} from {self.effective_from:%Y-%m-%d}"

    def amounts(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in self.NANOS_FIELDS}


class HealthWindow(models.TextChoices):
    FIVE_MINUTES = "5m", "5 minutes"
    THIRTY_MINUTES = "30m", "30 minutes"
    ONE_HOUR = "1h", "1 hour"
    ONE_DAY = "1d", "1 day"


class EndpointHealth(models.Model):
    """Rolled-up health of one endpoint over one window, from usage records (routing task)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="health")
    window = models.CharField(max_length=4, choices=HealthWindow.choices)
    p50_latency_ms = models.IntegerField(null=True)
    p75_latency_ms = models.IntegerField(null=True)
    p90_latency_ms = models.IntegerField(null=True)
    p99_latency_ms = models.IntegerField(null=True)
    p50_ttft_ms = models.IntegerField(null=True)
    p99_ttft_ms = models.IntegerField(null=True)
    p50_tokens_per_s = models.IntegerField(null=True)
    # Throughput percentiles read as OpenRouter's do: p90 is the speed 90 % of answers beat.
    p75_tokens_per_s = models.IntegerField(null=True)
    p90_tokens_per_s = models.IntegerField(null=True)
    p99_tokens_per_s = models.IntegerField(null=True)
    # Basis points: 10_000 = 100 %.
    uptime_bps = models.IntegerField(null=True)
    error_rate_bps = models.IntegerField(null=True)
    sample_count = models.IntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "window"], name="health_unique_window")
        ]

    def __str__(self) -> str:
        return f"health of endpoint {self.endpoint_id} over {self.window}"


class CatalogVersion(models.Model):
    """A single-row counter bumped in the same transaction as every catalog write.

    The gateway polls it to know when to rebuild its routing snapshot; pages key their cache
    on it.
    """

    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"catalog version {self.version}"
