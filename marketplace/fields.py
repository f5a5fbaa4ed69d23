"""Form and serializer fields over core.money_input: the one parser per kind, bounded.

Dashboard forms use `UsdFormField`, the management API `UsdSerializerField`; both hand back
integer nanos (or refuse with the parser's message), so no view parses money by hand.
`BoundedIntFormField` and `BoundedIntSerializerField` do the same for whole numbers in a range.
`query_int` and `reject_nul` are the same rules for query strings and URL parts.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import InvalidRequest
from core.money import api_usd
from core.money_input import InputError, parse_bounded_int, parse_usd_nanos

# Django's and DRF's integer fields take up to int64; ids are positive int64.
MAX_ID = 2**63 - 1
USD_SCHEMA = {
    "type": "string",
    "pattern": r"^\$?[0-9]{1,12}(\.[0-9]{1,9})?$",
    "description": "US dollars as a decimal string, e.g. \"25.00\" (a JSON number also works).",
}


class UsdFormField(forms.Field):
    """Dollars typed into a form ("$25.00", "25") as nanos, within [min_usd, max_usd]."""

    def __init__(self, *, max_usd: Decimal | int, min_usd: Decimal | int = 0, places: int = 9,
                 noun: str = "amount", **kwargs):
        self.bounds = {"max_usd": max_usd, "min_usd": min_usd, "places": places, "noun": noun}
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_usd_nanos(value, **self.bounds)
        except InputError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


@extend_schema_field(USD_SCHEMA)
class UsdSerializerField(serializers.Field):
    """Dollars in a JSON body (a decimal string, or a number) as nanos, bounded."""

    def __init__(self, *, max_usd: Decimal | int, min_usd: Decimal | int = 0, places: int = 9,
                 noun: str = "amount", **kwargs):
        self.bounds = {"max_usd": max_usd, "min_usd": min_usd, "places": places, "noun": noun}
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_usd_nanos(data, **self.bounds)
        except InputError as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from None

    def to_representation(self, value):
        return api_usd(value)


class BoundedIntFormField(forms.Field):
    """A whole number typed into a form, within [low, high]; empty is None."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": low, "max": high}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_bounded_int(value, low=self.low, high=self.high)
        except InputError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


class BoundedIntSerializerField(serializers.Field):
    """A whole number in a JSON body (a number, or decimal text), within [low, high]."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        super().__init__(**kwargs)
        # This instance's bounds in the OpenAPI schema (a class decorator cannot know them).
        set_override(self, "field", {"type": "integer", "minimum": low, "maximum": high})

    def to_internal_value(self, data):
        try:
            return parse_bounded_int(data, low=self.low, high=self.high)
        except InputError as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from None

    def to_representation(self, value):
        return value


def query_int(params, name: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`?name=` as an int within [low, high], None when absent; a 400 naming it otherwise."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_bounded_int(raw, low=low, high=high)
    except InputError as exc:
        raise InvalidRequest(exc.message, param=name) from None


def reject_nul(params, kwargs: dict | None = None) -> None:
    """A 400 for NUL in query parameters or URL parts: PostgreSQL text cannot hold one."""
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise InvalidRequest("Query parameters cannot contain NUL characters.",
                                 param=name.replace("\x00", ""))
    for name, value in (kwargs or {}).items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequest("The URL cannot contain NUL characters.", param=name)
