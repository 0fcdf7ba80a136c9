"""Evidence stays whole against bulk removal too: TRUNCATE (which row triggers never see) is refused
on frozen versions and packs, and a signed pack, once generated, can be neither changed nor deleted.

`escalation_refuse_truncate()` is shared with the engagement app's evidence tables. It lets a
TRUNCATE through only when the session sets `escalation.allow_truncate = on`: the test suite's
flush does (tests/conftest.py). That setting gives no power a role lacks: TRUNCATE also needs the
privilege, which only the owner role has, and the owner can drop triggers anyway.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION escalation_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('escalation.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is evidence: it cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER frameworkversion_no_truncate
BEFORE TRUNCATE ON escalation_frameworkversion
FOR EACH STATEMENT EXECUTE FUNCTION escalation_refuse_truncate();

CREATE TRIGGER pack_no_truncate
BEFORE TRUNCATE ON escalation_pack
FOR EACH STATEMENT EXECUTE FUNCTION escalation_refuse_truncate();

CREATE FUNCTION escalation_pack_refuse_signed_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.signed AND OLD.status = 'ready' THEN
        RAISE EXCEPTION 'pack % is a signed pack: it cannot be changed or deleted', OLD.public_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER pack_signed_frozen
BEFORE UPDATE OR DELETE ON escalation_pack
FOR EACH ROW EXECUTE FUNCTION escalation_pack_refuse_signed_change();
"""

DROP = """
DROP TRIGGER IF EXISTS pack_signed_frozen ON escalation_pack;
DROP FUNCTION IF EXISTS escalation_pack_refuse_signed_change();
DROP TRIGGER IF EXISTS pack_no_truncate ON escalation_pack;
DROP TRIGGER IF EXISTS frameworkversion_no_truncate ON escalation_frameworkversion;
DROP FUNCTION IF EXISTS escalation_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("escalation", "0004_field_labels")]

    operations = [migrations.RunSQL(CREATE, DROP)]
