import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Review terms (the rule and the required approvers, fixed at submission) and, on each approval,
# who decided as they were then and how they proved it. Rows written before this migration are
# filled from what the database still knows: a submitted review's terms from the approvals it
# received if signed off, else from today's rule; an approval's name and email from the account
# as it is now, its authentication as "unrecorded".

ROLES = [
    ("facilitator", "Facilitator"),
    ("approver", "Approver"),
    ("reviewer", "Reviewer"),
    ("observer", "Observer"),
]


def _name(user):
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.username


def backfill(apps, schema_editor):
    Review = apps.get_model("workshops", "Review")
    RequiredApprover = apps.get_model("workshops", "RequiredApprover")
    Approval = apps.get_model("workshops", "Approval")
    Membership = apps.get_model("workshops", "Membership")
    for approval in Approval.objects.select_related("approver", "review"):
        membership = Membership.objects.filter(
            engagement_id=approval.review.engagement_id, user_id=approval.approver_id
        ).first()
        approval.approver_name = _name(approval.approver)
        approval.approver_email = approval.approver.email
        approval.approver_role = membership.role if membership else "approver"
        approval.save(update_fields=["approver_name", "approver_email", "approver_role"])
    for review in Review.objects.filter(submitted_at__isnull=False).select_related("engagement"):
        engagement = review.engagement
        if review.signed_off_at is not None:
            users = [
                a.approver
                for a in review.approvals.filter(decision="approved").select_related("approver")
            ]
        else:
            approvers = Membership.objects.filter(engagement=engagement, role="approver")
            named = [m for m in approvers if m.signoff_required]
            chosen = named if engagement.signoff_rule == "named_approvers" and named else approvers
            users = [m.user for m in chosen]
        RequiredApprover.objects.bulk_create(
            RequiredApprover(
                review=review, user=user, name=_name(user), email=user.email, role="approver"
            )
            for user in users
        )
        review.signoff_rule = engagement.signoff_rule
        review.save(update_fields=["signoff_rule"])


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0006_open_engagement_permission"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="signoff_rule",
            field=models.CharField(
                blank=True,
                choices=[
                    ("all_approvers", "Every approver"),
                    ("named_approvers", "The named approvers"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="approval",
            name="approver_name",
            field=models.CharField(default="", max_length=300),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="approval",
            name="approver_email",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="approval",
            name="approver_role",
            field=models.CharField(choices=ROLES, default="approver", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="approval",
            name="authenticated_via",
            field=models.CharField(
                choices=[
                    ("password", "Confirmed their password"),
                    ("recent-login", "Signed in within 5 minutes"),
                    ("seeded", "Seeded data (demo, bench or test)"),
                    ("unrecorded", "Not recorded (before step-up)"),
                ],
                default="unrecorded",
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="approval",
            name="authenticated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="approval",
            constraint=models.CheckConstraint(
                condition=models.Q(("authenticated_at__isnull", False))
                | models.Q(("authenticated_via", "unrecorded")),
                name="approval_authentication_time_recorded",
            ),
        ),
        migrations.CreateModel(
            name="RequiredApprover",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=300)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("role", models.CharField(choices=ROLES, max_length=20)),
                (
                    "review",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="required",
                        to="workshops.review",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.AddConstraint(
            model_name="requiredapprover",
            constraint=models.UniqueConstraint(
                fields=("review", "user"), name="required_approver_once_per_review"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
