"""Staff in the `operators` group (catalog migration 0003) run the listings admin too: add and
remove vendor grants, review listing edits, pause campaigns. Nothing else of the listings app
is editable there (events and spend are written by the beacons only).

Permissions are created by a post_migrate signal, after every migration has run, so on a new
database they do not exist yet here: create them for this app first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "operators"
CODENAMES = ("add_vendorgrant", "delete_vendorgrant", "view_vendorgrant",
             "change_listingedit", "view_listingedit", "change_campaign", "view_campaign")


def forwards(apps, schema_editor):
    listings = apps.get_app_config("listings")
    models_module = getattr(listings, "models_module", None)
    listings.models_module = models_module or True
    try:
        create_permissions(listings, apps=apps, verbosity=0)
    finally:
        listings.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="listings",
                                                     codename__in=CODENAMES))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="listings",
                                                            codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0003_operators_group"),
        ("listings", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
