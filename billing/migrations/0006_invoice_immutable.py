"""PostgreSQL guards: a finalized invoice, its lines and its usage links cannot change.

The services refuse such writes too; this makes the database refuse writes that bypass them.
Only UPDATE/DELETE of finalized invoices and INSERT/UPDATE/DELETE of their lines and links are
refused, so open invoices accumulate normally. SQLite gets none (see 0003).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION billing_refuse_finalized_invoice() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'finalized' THEN
        RAISE EXCEPTION 'invoice % is finalized and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_finalized_invoice();

CREATE OR REPLACE FUNCTION billing_refuse_finalized_child() RETURNS trigger AS $$
DECLARE
    invoice_status text;
    target bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target := OLD.invoice_id;
    ELSE
        target := NEW.invoice_id;
    END IF;
    SELECT status INTO invoice_status FROM billing_invoice WHERE id = target;
    IF invoice_status = 'finalized' OR (TG_OP = 'UPDATE' AND EXISTS (
        SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status = 'finalized'
    )) THEN
        RAISE EXCEPTION 'invoice % is finalized: % on % refused', target, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_finalized_child();
CREATE TRIGGER billing_invoicedusage_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoicedusage
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_finalized_child();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS billing_invoicedusage_immutable ON billing_invoicedusage;
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_refuse_finalized_child();
DROP FUNCTION IF EXISTS billing_refuse_finalized_invoice();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_invoices_topups")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
