"""Validate our JSON answers against OpenRouter's published OpenAPI description.

    from tests.openrouter_schema import validate
    validate(payload, "ModelsListResponse")   # raises jsonschema.ValidationError on mismatch

The description is vendored at tests/fixtures/openrouter-openapi.yaml (copied from
../shared/reference, so the suite needs nothing outside the repo). Our documented extensions
beyond OpenRouter are applied in `EXTENSIONS` and nowhere else: the sandbox providers' names
join the `ProviderName` enum. Extra properties need no extension: OpenRouter's schemas allow them.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml
from openapi_schema_validator import OAS31Validator

SPEC_PATH = Path(__file__).resolve().parent / "fixtures" / "openrouter-openapi.yaml"

# Our providers that OpenRouter does not list (the offline sandbox: catalog/curation.py).
EXTRA_PROVIDER_NAMES = ["Sandbox OpenAI", "Sandbox OpenAI B", "Sandbox Anthropic",
                        "Sandbox Gemini", "Sandbox EU", "Sandbox Trains", "Sandbox Retains"]


def _extend(components: dict) -> dict:
    components = copy.deepcopy(components)
    provider_names = components["schemas"]["ProviderName"]
    provider_names["enum"] = [*provider_names["enum"], *EXTRA_PROVIDER_NAMES]
    return components


@lru_cache(maxsize=1)
def _components() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as handle:
        spec = yaml.load(handle, Loader=loader)  # noqa: S506  (a safe loader, C or Python)
    return _extend(spec["components"])


@lru_cache(maxsize=64)
def _validator(schema_name: str) -> OAS31Validator:
    components = _components()
    if schema_name not in components["schemas"]:
        raise KeyError(f"OpenRouter's description has no schema {schema_name!r}")
    # The $ref resolves against this root document, which carries every component.
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    return OAS31Validator(root)


def validate(instance, schema_name: str) -> None:
    """Raise jsonschema.ValidationError unless `instance` matches OpenRouter's `schema_name`."""
    _validator(schema_name).validate(instance)


def errors(instance, schema_name: str) -> list[str]:
    """Every validation error as "path: message" (empty when valid), for clear assertions."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator(schema_name).iter_errors(instance)]
