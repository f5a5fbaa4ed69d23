"""OpenAI-compatible providers now store their SDK base URL, version path included.

Before, the adapter appended /v1/chat/completions to a root URL, which cannot express a
provider whose API lives elsewhere (DeepInfra: https://api.deepinfra.com/v1/openai). Rows
without a /v1 segment get one appended; rows that already have one were written for the new
convention and are left as they are.
"""

from django.db import migrations


def _has_version(url: str) -> bool:
    """A `v1` segment after the host (or after the sandbox slug)."""
    return "v1" in url.split("://", 1)[-1].split("/")[1:]


def forwards(apps, schema_editor):
    Provider = apps.get_model("catalog", "Provider")
    for provider in Provider.objects.filter(wire_format="openai"):
        if not _has_version(provider.base_url):
            provider.base_url = provider.base_url.rstrip("/") + "/v1"
            provider.save(update_fields=["base_url"])


def backwards(apps, schema_editor):
    Provider = apps.get_model("catalog", "Provider")
    for provider in Provider.objects.filter(wire_format="openai"):
        if provider.base_url.rstrip("/").endswith("/v1"):
            provider.base_url = provider.base_url.rstrip("/")[: -len("/v1")]
            provider.save(update_fields=["base_url"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
