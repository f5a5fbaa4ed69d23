"""Migration 0002: stored OpenAI-compatible root URLs become SDK base URLs (version path on)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0001_initial")]
AFTER = [("catalog", "0002_openai_sdk_base_urls")]


@pytest.mark.django_db(transaction=True)
def test_root_urls_gain_their_version_path_and_sdk_urls_stay():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("catalog", "Provider")
    rows = {
        "openai": ("openai", "https://api.openai.com"),
        "groq": ("openai", "https://api.groq.com/openai/"),
        "deepinfra": ("openai", "https://api.deepinfra.com/v1/openai"),
        "sandbox-openai": ("openai", "sandbox://sandbox-openai"),
        "anthropic": ("anthropic", "https://api.anthropic.com"),
    }
    for slug, (wire, url) in rows.items():
        old.objects.create(slug=slug, name=slug, wire_format=wire, base_url=url)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("catalog", "Provider")
    assert dict(new.objects.values_list("slug", "base_url")) == {
        "openai": "https://api.openai.com/v1",
        "groq": "https://api.groq.com/openai/v1",
        "deepinfra": "https://api.deepinfra.com/v1/openai",
        "sandbox-openai": "sandbox://sandbox-openai/v1",
        "anthropic": "https://api.anthropic.com",
    }
    # Leave the database at the latest state for the tests after this one.
    new.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
