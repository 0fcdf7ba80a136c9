"""The evidence is append-only in the database, whoever asks (ORM, admin or raw SQL): approvals,
review events, comments, the activity log, sign-off records and the ledger refuse UPDATE, DELETE
and TRUNCATE. A comment's resolution is the one later write: resolved_at/resolved_by are filled
once, and nothing else of the comment ever changes. An engagement with evidence in its register
cannot be deleted (archive it instead).

Only the table owner can get past this (by disabling the triggers); the application connects as a
role that owns nothing (`manage.py grant_app_role`), and the ledger's hash chain reveals what an
owner changes (`manage.py verify_register`).
"""

from django.db import migrations

APPEND_ONLY = [
    "workshops_approval",
    "workshops_reviewevent",
    "workshops_activity",
    "workshops_signoffrecord",
    "workshops_ledgerentry",
]
EVIDENCE = [*APPEND_ONLY, "workshops_comment"]

COMMENT_FIXED_COLUMNS = ["id", "review_id", "author_id", "anchor", "parent_id", "body", "created_at"]

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

CREATE FUNCTION workshops_comment_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'comment % is evidence: it cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ("""
    + ", ".join("NEW." + c for c in COMMENT_FIXED_COLUMNS)
    + """)
       IS DISTINCT FROM ("""
    + ", ".join("OLD." + c for c in COMMENT_FIXED_COLUMNS)
    + """)
       OR OLD.resolved_at IS NOT NULL OR NEW.resolved_at IS NULL THEN
        RAISE EXCEPTION 'comment % is evidence: only its resolution may be added, once', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
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

CREATE TRIGGER comment_append_only
BEFORE UPDATE OR DELETE ON workshops_comment
FOR EACH ROW EXECUTE FUNCTION workshops_comment_refuse_change();
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
        for table in EVIDENCE
    )
)

DROP = (
    "".join(
        f"DROP TRIGGER IF EXISTS {table.removeprefix('workshops_')}_no_truncate ON {table};\n"
        for table in EVIDENCE
    )
    + "".join(
        f"DROP TRIGGER IF EXISTS {table.removeprefix('workshops_')}_append_only ON {table};\n"
        for table in APPEND_ONLY
    )
    + """
DROP TRIGGER IF EXISTS comment_append_only ON workshops_comment;
DROP TRIGGER IF EXISTS engagement_keeps_evidence ON workshops_engagement;
DROP FUNCTION IF EXISTS workshops_engagement_refuse_delete();
DROP FUNCTION IF EXISTS workshops_comment_refuse_change();
DROP FUNCTION IF EXISTS workshops_refuse_change();
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0005_evidence_register"),
        ("escalation", "0004_evidence_triggers"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
