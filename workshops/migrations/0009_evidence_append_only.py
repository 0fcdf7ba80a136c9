"""The evidence is append-only in the database, whoever asks (ORM, admin or raw SQL): approvals,
the required approvers a review was submitted with, review events, comments and their resolutions
(closing a thread adds a row), the activity log, sign-off records and the ledger refuse UPDATE,
DELETE and TRUNCATE. An engagement with evidence in its register cannot be deleted (archive it
instead).

Only the table owner can get past this (by disabling the triggers); the application connects as a
role that owns nothing (`manage.py grant_app_role`), and the ledger's hash chain reveals what an
owner changes (`manage.py verify_register`).
"""

from django.db import migrations

APPEND_ONLY = [
    "workshops_approval",
    "workshops_requiredapprover",
    "workshops_reviewevent",
    "workshops_comment",
    "workshops_commentresolution",
    "workshops_activity",
    "workshops_signoffrecord",
    "workshops_ledgerentry",
]

CREATE = (
    """
CREATE FUNCTION workshops_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only evidence: row % cannot be %d', TG_TABLE_NAME, OLD.id,
        lower(TG_OP)
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE FUNCTION workshops_engagement_refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM workshops_ledgerentry WHERE engagement_id = OLD.id) THEN
        RAISE EXCEPTION 'engagement % has frozen versions and approvals in its evidence register: archive it instead of deleting it', OLD.slug
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER engagement_keeps_evidence
BEFORE DELETE ON workshops_engagement
FOR EACH ROW EXECUTE FUNCTION workshops_engagement_refuse_delete();

"""
    + "".join(
        f"""
CREATE TRIGGER {table.removeprefix("workshops_")}_append_only
BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION workshops_refuse_change();
"""
        for table in APPEND_ONLY
    )
    + "".join(
        f"""
CREATE TRIGGER {table.removeprefix("workshops_")}_no_truncate
BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION escalation_refuse_truncate();
"""
        for table in APPEND_ONLY
    )
)

DROP = (
    "".join(
        f"DROP TRIGGER IF EXISTS {table.removeprefix('workshops_')}_no_truncate ON {table};\n"
        for table in APPEND_ONLY
    )
    + "".join(
        f"DROP TRIGGER IF EXISTS {table.removeprefix('workshops_')}_append_only ON {table};\n"
        for table in APPEND_ONLY
    )
    + """
DROP TRIGGER IF EXISTS engagement_keeps_evidence ON workshops_engagement;
DROP FUNCTION IF EXISTS workshops_engagement_refuse_delete();
DROP FUNCTION IF EXISTS workshops_refuse_change();
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0008_evidence_register"),
        ("escalation", "0005_evidence_triggers"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
