"""The database refuses to change or delete a frozen framework version, whoever asks (ORM or raw
SQL). Only DDL by the table owner (dropping or disabling the trigger) can get past it."""

from django.db import migrations

FROZEN_COLUMNS = [
    "id",
    "public_id",
    "framework_id",
    "number",
    "document",
    "sha256",
    "summary",
    "created_by_name",
    "created_at",
]

CREATE = f"""
CREATE FUNCTION escalation_frameworkversion_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'framework version v% is frozen: it cannot be deleted', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ({", ".join("NEW." + c for c in FROZEN_COLUMNS)})
       IS DISTINCT FROM ({", ".join("OLD." + c for c in FROZEN_COLUMNS)}) THEN
        RAISE EXCEPTION 'framework version v% is frozen: its content cannot be changed', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER frameworkversion_frozen
BEFORE UPDATE OR DELETE ON escalation_frameworkversion
FOR EACH ROW EXECUTE FUNCTION escalation_frameworkversion_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS frameworkversion_frozen ON escalation_frameworkversion;
DROP FUNCTION IF EXISTS escalation_frameworkversion_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
