"""The `operators` group: staff in it may add, change, delete and view the catalog's models.

Permissions are created by a post_migrate signal, after every migration has run, so on a new
database they do not exist yet here: create them for this app first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "operators"
ACTIONS = ("add", "change", "delete", "view")


def forwards(apps, schema_editor):
    catalog = apps.get_app_config("catalog")
    # create_permissions skips an app config without a models module, as the state's are.
    models_module = getattr(catalog, "models_module", None)
    catalog.models_module = models_module or True
    try:
        create_permissions(catalog, apps=apps, verbosity=0)
    finally:
        catalog.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model._meta.model_name}"
                 for model in catalog.get_models() for action in ACTIONS]
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="catalog",
                                                     codename__in=codenames))


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0002_openai_sdk_base_urls"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
