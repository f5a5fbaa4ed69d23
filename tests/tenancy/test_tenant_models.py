"""Meta-test: every tenant model carries an `org` foreign key to Organization.

Iterates every model of our apps. A model without `org` must be listed in GLOBAL_MODELS with the
reason it belongs to no tenant; an `org` that may be NULL must be listed in NULLABLE_ORG with the
reason. Adding a model to our apps therefore means deciding, in review, whose data it is.
"""

import pytest
from django.apps import apps
from django.db import models

from marketplace.tenancy.models import Organization

OUR_APPS = ("tenancy", "dashboard", "catalog", "routing", "billing", "compliance",
            "observability", "listings")

GLOBAL_MODELS = {
    "tenancy.Organization": "the tenant itself",
    "catalog.Provider": "the public catalog is the same for every org",
    "catalog.Model": "the public catalog is the same for every org",
    "catalog.Endpoint": "the public catalog is the same for every org",
    "catalog.Price": "list prices are public and global; org margins live in billing",
    "catalog.EndpointHealth": "public health figures aggregated over all traffic",
    "catalog.CatalogVersion": "one global counter telling gateways to rebuild the snapshot",
    "billing.InvoiceCounter": "gap-free invoice numbering is per issuing entity, not per org",
    "observability.RollupState": "the rollup task's one watermark, over every org's records",
    "observability.ModelTaskDay": "counts per day, model and task summed over all orgs: measured "
                                  "model quality is public and holds no org's data",
}

NULLABLE_ORG = {
    "billing.LedgerAccount": "platform accounts (revenue, payables, Stripe clearing) have no org",
    "billing.MarginRule": "a rule without org is the platform default for a model/provider",
    "tenancy.AuditEntry": "staff's platform-wide changes (catalog, default margins) have no org",
}


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def _our_models():
    for app_label in OUR_APPS:
        yield from apps.get_app_config(app_label).get_models()


def test_every_model_of_our_apps_is_tenant_scoped_or_declared_global():
    problems = []
    for model in _our_models():
        label = _label(model)
        try:
            field = model._meta.get_field("org")
        except Exception:  # FieldDoesNotExist
            field = None
        if label in GLOBAL_MODELS:
            if field is not None:
                problems.append(f"{label} is listed as global but has an org field")
            continue
        if field is None:
            problems.append(f"{label} has no `org` foreign key and is not listed as global")
            continue
        if not isinstance(field, models.ForeignKey) or field.related_model is not Organization:
            problems.append(f"{label}.org is not a ForeignKey to tenancy.Organization")
        elif field.null and label not in NULLABLE_ORG:
            problems.append(f"{label}.org may be NULL; list it in NULLABLE_ORG with a reason")
    assert problems == []


def test_the_allowlists_name_real_models():
    labels = {_label(model) for model in _our_models()}
    assert set(GLOBAL_MODELS) - labels == set()
    assert set(NULLABLE_ORG) - labels == set()


@pytest.mark.parametrize("label", sorted(GLOBAL_MODELS))
def test_global_models_hold_no_user_or_key_columns(label):
    # A "global" table that points at users or keys is tenant data in disguise.
    model = apps.get_model(label)
    related = {
        f.related_model._meta.label
        for f in model._meta.get_fields()
        if f.is_relation and f.many_to_one and f.related_model is not None
    }
    assert related & {"auth.User", "tenancy.ApiKey", "tenancy.Membership"} == set()
