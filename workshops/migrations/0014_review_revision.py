"""An engagement's review revision: a number every write to its reviews moves (ReviewRevision).

Row triggers on the reviews and on every table that points at a review (comments and their
resolutions, approvals, events, required approvers, sign-off records) upsert the engagement's
revision to the next value of one sequence, as escalation's migration 0012 does for framework
content. A person's new name moves the revision of every engagement where it shows: where they
are a member, and where they wrote a comment, resolved a thread or moved a review.
"""

from django.db import migrations, models

# (table, the query naming a row's engagement from $1, the row's column that $1 is).
REVIEW = "SELECT engagement_id FROM workshops_review WHERE id = $1"
REVIEW_TABLES = [
    ("workshops_review", "SELECT $1", "engagement_id"),
    ("workshops_comment", REVIEW, "review_id"),
    ("workshops_approval", REVIEW, "review_id"),
    ("workshops_reviewevent", REVIEW, "review_id"),
    ("workshops_requiredapprover", REVIEW, "review_id"),
    ("workshops_signoffrecord", REVIEW, "review_id"),
    (
        "workshops_commentresolution",
        "SELECT review.engagement_id FROM workshops_comment AS comment "
        "JOIN workshops_review AS review ON review.id = comment.review_id WHERE comment.id = $1",
        "comment_id",
    ),
]

FUNCTIONS = """
CREATE SEQUENCE workshops_review_revision_seq;

CREATE FUNCTION workshops_bump_review_revision(engagement bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO workshops_reviewrevision (engagement_id, revision)
    VALUES (engagement, nextval('workshops_review_revision_seq'))
    ON CONFLICT (engagement_id) DO UPDATE SET revision = EXCLUDED.revision;
$$;

-- TG_ARGV: the query naming the row's engagement from $1, and the row's column that $1 is.
CREATE FUNCTION workshops_review_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;
    engagement bigint;
    engagements bigint[] := '{}';
BEGIN
    FOREACH changed IN ARRAY ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
        CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END
    ] LOOP
        CONTINUE WHEN changed IS NULL;
        EXECUTE TG_ARGV[0] INTO engagement USING (changed ->> TG_ARGV[1])::bigint;
        IF engagement IS NOT NULL AND NOT engagement = ANY(engagements) THEN
            engagements := engagements || engagement;
            PERFORM workshops_bump_review_revision(engagement);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

-- In the engagements' order, so that two renames at once never wait on each other's rows.
CREATE FUNCTION workshops_person_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workshops_bump_review_revision(named.engagement_id) FROM (
        SELECT engagement_id FROM workshops_membership WHERE user_id = NEW.id
        UNION
        SELECT review.engagement_id FROM workshops_comment AS comment
        JOIN workshops_review AS review ON review.id = comment.review_id
        WHERE comment.author_id = NEW.id
        UNION
        SELECT review.engagement_id FROM workshops_commentresolution AS resolution
        JOIN workshops_comment AS comment ON comment.id = resolution.comment_id
        JOIN workshops_review AS review ON review.id = comment.review_id
        WHERE resolution.resolved_by_id = NEW.id
        UNION
        SELECT review.engagement_id FROM workshops_reviewevent AS event
        JOIN workshops_review AS review ON review.id = event.review_id
        WHERE event.actor_id = NEW.id
    ) AS named
    ORDER BY named.engagement_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER person_renamed_moves_review_revisions
AFTER UPDATE OF first_name, last_name, username ON auth_user
FOR EACH ROW
WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
      OR OLD.last_name IS DISTINCT FROM NEW.last_name
      OR OLD.username IS DISTINCT FROM NEW.username)
EXECUTE FUNCTION workshops_person_renamed();
"""

TRIGGERS = [
    f"CREATE TRIGGER {table}_review_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION workshops_review_changed('{query}', '{column}');"
    for table, query, column in REVIEW_TABLES
]

DROP = [
    f"DROP TRIGGER IF EXISTS {table}_review_changed ON {table};" for table, _, _ in REVIEW_TABLES
] + [
    "DROP TRIGGER IF EXISTS person_renamed_moves_review_revisions ON auth_user;",
    "DROP FUNCTION IF EXISTS workshops_person_renamed();",
    "DROP FUNCTION IF EXISTS workshops_review_changed();",
    "DROP FUNCTION IF EXISTS workshops_bump_review_revision(bigint);",
    "DROP SEQUENCE IF EXISTS workshops_review_revision_seq;",
]


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0013_thread_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReviewRevision",
            fields=[
                ("engagement_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("revision", models.BigIntegerField()),
            ],
            options={"abstract": False},
        ),
        migrations.RunSQL([FUNCTIONS, *TRIGGERS], DROP),
    ]
