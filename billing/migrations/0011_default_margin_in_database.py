"""The platform default margin becomes a row staff edit (the rule with no org, model or provider),
seeded from MARGIN_DEFAULT_BPS; basis points are capped at 10,000."""

import django.core.validators
from django.conf import settings
from django.db import migrations, models


def seed_default(apps, schema_editor):
    MarginRule = apps.get_model("billing", "MarginRule")
    MarginRule.objects.get_or_create(
        org=None, model_slug="", provider_slug="",
        defaults={"bps": settings.MARGIN_DEFAULT_BPS,
                  "note": "Platform default, seeded from MARGIN_DEFAULT_BPS"},
    )


def drop_default(apps, schema_editor):
    MarginRule = apps.get_model("billing", "MarginRule")
    MarginRule.objects.filter(org=None, model_slug="", provider_slug="").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0010_signup_credit'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='marginrule',
            name='margin_rule_not_platform_default',
        ),
        migrations.AlterField(
            model_name='marginrule',
            name='bps',
            field=models.IntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10000)]),
        ),
        migrations.AddConstraint(
            model_name='marginrule',
            constraint=models.CheckConstraint(condition=models.Q(('bps__lte', 10000)), name='margin_bps_at_most_100pct'),
        ),
        migrations.RunPython(seed_default, drop_default),
    ]
