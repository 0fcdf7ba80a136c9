"""A framework's content revision: a number every write to its content moves (FrameworkRevision).

Row triggers on the framework, each table of items and each table linking items (many-to-many)
upsert the framework's revision to the next value of one sequence. Triggers rather than Django
code, so that no path (a form, an import, a bulk update, raw SQL) can write without moving it.
The revision table has no foreign key to the framework: the items of a framework being deleted
write their revision before the framework row goes, and the framework's own delete then drops
its revision row.

Concurrent writers of one framework queue on its revision row until the first commits: a cache
entry made under a revision always holds the content of that revision.
"""

from django.db import migrations, models

# (table, how a row names its framework): its own column, or (parent table, column to it).
FRAMEWORK_TABLES = [
    "escalation_aisystem",
    "escalation_threshold",
    "escalation_escalationlevel",
    "escalation_bound",
    "escalation_failuremode",
    "escalation_drifttrigger",
    "escalation_externaltrigger",
    "escalation_reviewcadence",
    "escalation_sunsetrule",
]
LINK_TABLES = [
    ("escalation_aisystem_unavailable_levels", "escalation_aisystem", "aisystem_id"),
    ("escalation_bound_escalates_to", "escalation_bound", "bound_id"),
    ("escalation_failuremode_then_levels", "escalation_failuremode", "failuremode_id"),
    ("escalation_failuremode_applies_to", "escalation_failuremode", "failuremode_id"),
    ("escalation_failuremode_detected_by", "escalation_failuremode", "failuremode_id"),
    ("escalation_externaltrigger_ai_systems", "escalation_externaltrigger", "externaltrigger_id"),
    ("escalation_sunsetrule_levels", "escalation_sunsetrule", "sunsetrule_id"),
]

FUNCTIONS = """
CREATE SEQUENCE escalation_framework_revision_seq;

CREATE FUNCTION escalation_bump_revision(framework bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO escalation_frameworkrevision (framework_id, revision)
    VALUES (framework, nextval('escalation_framework_revision_seq'))
    ON CONFLICT (framework_id) DO UPDATE SET revision = EXCLUDED.revision;
$$;

-- TG_ARGV: the column naming the framework, or the parent table and the column naming its row.
CREATE FUNCTION escalation_content_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;
    framework bigint;
BEGIN
    FOREACH changed IN ARRAY ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
        CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END
    ] LOOP
        CONTINUE WHEN changed IS NULL;
        IF TG_NARGS = 1 THEN
            framework := (changed ->> TG_ARGV[0])::bigint;
        ELSE
            EXECUTE format('SELECT framework_id FROM %I WHERE id = $1', TG_ARGV[0])
                INTO framework USING (changed ->> TG_ARGV[1])::bigint;
        END IF;
        IF framework IS NOT NULL THEN
            PERFORM escalation_bump_revision(framework);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE FUNCTION escalation_framework_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM escalation_frameworkrevision WHERE framework_id = OLD.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER framework_content_changed
AFTER INSERT OR UPDATE ON escalation_framework
FOR EACH ROW EXECUTE FUNCTION escalation_content_changed('id');

CREATE TRIGGER framework_revision_dropped
AFTER DELETE ON escalation_framework
FOR EACH ROW EXECUTE FUNCTION escalation_framework_deleted();
"""

TRIGGERS = [
    f"CREATE TRIGGER {table}_content_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION escalation_content_changed('framework_id');"
    for table in FRAMEWORK_TABLES
] + [
    f"CREATE TRIGGER {table}_content_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION escalation_content_changed('{parent}', '{column}');"
    for table, parent, column in LINK_TABLES
]

DROP = [
    f"DROP TRIGGER IF EXISTS {table}_content_changed ON {table};"
    for table in [*FRAMEWORK_TABLES, *(link[0] for link in LINK_TABLES)]
] + [
    "DROP TRIGGER IF EXISTS framework_revision_dropped ON escalation_framework;",
    "DROP TRIGGER IF EXISTS framework_content_changed ON escalation_framework;",
    "DROP FUNCTION IF EXISTS escalation_framework_deleted();",
    "DROP FUNCTION IF EXISTS escalation_content_changed();",
    "DROP FUNCTION IF EXISTS escalation_bump_revision(bigint);",
    "DROP SEQUENCE IF EXISTS escalation_framework_revision_seq;",
]


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0011_review_cycle"),
    ]

    operations = [
        migrations.CreateModel(
            name="FrameworkRevision",
            fields=[
                ("framework_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("revision", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL([FUNCTIONS, *TRIGGERS], DROP),
    ]
