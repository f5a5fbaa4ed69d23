"""Input and output serializers of the catalog management API (no business logic here)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from catalog.models import Endpoint, Model, Price, Provider, Status, WireFormat, validate_base_url

NANOS = {"min_value": 0, "max_value": 10**15}
# The integer columns these land in are 32-bit: bounded here, a 400, not the database's 500.
TOKENS = {"min_value": 0, "max_value": 100_000_000}


class ProviderOut(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "slug", "name", "wire_format", "base_url", "regions", "retention_days",
                  "trains_on_data", "zdr", "status", "is_sandbox", "website"]


class ProviderIn(serializers.Serializer):
    slug = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=120)
    wire_format = serializers.ChoiceField(choices=WireFormat.choices)
    base_url = serializers.CharField(max_length=300)
    regions = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    retention_days = serializers.IntegerField(min_value=0, max_value=36_500, allow_null=True,
                                              required=False)
    trains_on_data = serializers.BooleanField(required=False)
    zdr = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    website = serializers.URLField(required=False, allow_blank=True)

    def validate_base_url(self, value: str) -> str:
        try:
            validate_base_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class ModelOut(serializers.ModelSerializer):
    class Meta:
        model = Model
        fields = ["id", "slug", "author", "name", "description", "context_length",
                  "input_modalities", "output_modalities", "supports_tools",
                  "supports_json_schema", "supports_vision", "supports_reasoning",
                  "supports_prompt_caching", "tags", "released_on", "expires_on", "status"]


MODALITIES = ["text", "image", "file", "audio", "video"]


def _modalities():
    return serializers.ListField(child=serializers.ChoiceField(choices=MODALITIES),
                                 required=False)


class ModelIn(serializers.Serializer):
    slug = serializers.RegexField(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._:-]*$", max_length=200)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    context_length = serializers.IntegerField(required=False, **TOKENS)
    input_modalities = _modalities()
    output_modalities = _modalities()
    supports_tools = serializers.BooleanField(required=False)
    supports_json_schema = serializers.BooleanField(required=False)
    supports_vision = serializers.BooleanField(required=False)
    supports_reasoning = serializers.BooleanField(required=False)
    supports_prompt_caching = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)


class PriceOut(serializers.ModelSerializer):
    class Meta:
        model = Price
        fields = ["id", "endpoint", "effective_from", "input_nanos_per_m", "output_nanos_per_m",
                  "cache_read_nanos_per_m", "cache_write_nanos_per_m", "reasoning_nanos_per_m",
                  "request_nanos", "image_nanos", "source", "source_date"]


class PriceIn(serializers.Serializer):
    effective_from = serializers.DateTimeField(required=False)
    input_nanos_per_m = serializers.IntegerField(**NANOS)
    output_nanos_per_m = serializers.IntegerField(**NANOS)
    cache_read_nanos_per_m = serializers.IntegerField(required=False, **NANOS)
    cache_write_nanos_per_m = serializers.IntegerField(required=False, **NANOS)
    reasoning_nanos_per_m = serializers.IntegerField(required=False, **NANOS)
    request_nanos = serializers.IntegerField(required=False, **NANOS)
    image_nanos = serializers.IntegerField(required=False, **NANOS)
    source = serializers.CharField(max_length=300, required=False, allow_blank=True)
    source_date = serializers.DateField(required=False, allow_null=True)


class NewPriceIn(PriceIn):
    endpoint = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class EndpointOut(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    provider = serializers.CharField(source="provider.slug")

    class Meta:
        model = Endpoint
        fields = ["id", "model", "provider", "upstream_model_id", "context_length",
                  "max_output_tokens", "quantization", "region", "supported_parameters",
                  "input_modalities", "output_modalities", "status"]


class EndpointUpdateIn(serializers.Serializer):
    upstream_model_id = serializers.CharField(max_length=200, required=False)
    context_length = serializers.IntegerField(required=False, **TOKENS)
    max_output_tokens = serializers.IntegerField(required=False, **TOKENS)
    quantization = serializers.CharField(max_length=16, required=False, allow_blank=True)
    region = serializers.CharField(max_length=40, required=False, allow_blank=True)
    supported_parameters = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False)
    input_modalities = _modalities()
    output_modalities = _modalities()
    status = serializers.ChoiceField(choices=Status.choices, required=False)


class EndpointIn(EndpointUpdateIn):
    model = serializers.CharField(max_length=200)
    provider = serializers.SlugField(max_length=60)
    upstream_model_id = serializers.CharField(max_length=200)
    price = PriceIn(required=False)
