"""The audit log is append-only: PostgreSQL refuses updating or deleting its entries.

One exception, on purpose: an UPDATE that only clears `actor_user_id` or `actor_key_id` (and
changes nothing else) passes. That is what Django's SET_NULL does when a user or an API key is
deleted; the entry keeps `actor_label` (who it was), so the record itself is unchanged, and
refusing it would make deleting a user fail for as long as any entry names them. Deleting is
never allowed: the org foreign key is PROTECT (here, state only: Django enforces it), so an
org with entries cannot be deleted, as its ledger rows already forbid; `TRUNCATE` (the test
suite's flush) is not a row operation and is not affected.

SQLite gets no trigger, as with the ledger (billing 0003): Django's test flush deletes rows there.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION tenancy_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.actor_user_id IS NULL OR NEW.actor_user_id IS NOT DISTINCT FROM OLD.actor_user_id)
       AND (NEW.actor_key_id IS NULL OR NEW.actor_key_id IS NOT DISTINCT FROM OLD.actor_key_id)
       AND to_jsonb(NEW) - 'actor_user_id' - 'actor_key_id'
           = to_jsonb(OLD) - 'actor_user_id' - 'actor_key_id' THEN
        RETURN NEW;  -- a deleted user's or key's SET NULL; everything recorded stays
    END IF;
    RAISE EXCEPTION '% on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tenancy_auditentry_append_only
    BEFORE UPDATE OR DELETE ON tenancy_auditentry
    FOR EACH ROW EXECUTE FUNCTION tenancy_audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tenancy_auditentry_append_only ON tenancy_auditentry;
DROP FUNCTION IF EXISTS tenancy_audit_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_audit_entry")]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="org",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_entries", to="tenancy.organization",
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
