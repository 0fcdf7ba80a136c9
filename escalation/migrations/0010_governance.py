"""Governance v2: one framework currency that levels inherit, cost estimates as a range with a
basis, timelines in a unit, k-of-a-group approval with a deputy, and the overrun rule."""

from collections import Counter

import django.core.validators
import escalation.models.framework
from django.db import migrations, models
from django.db.models import F, Q

DEFAULT_OVERRUN_RULE = (
    "Spend that would pass a level's cost ceiling stops until the level's approvers approve a new "
    "ceiling; the overrun and the decision are recorded and taken to the next scheduled review."
)


def inherit_currency(apps, schema_editor):
    """Each framework takes the currency most of its levels use (ties: the lowest rung's); levels
    in it inherit it, the others keep theirs as an override. A single figure becomes a range whose
    ends agree."""
    Framework = apps.get_model("escalation", "Framework")
    EscalationLevel = apps.get_model("escalation", "EscalationLevel")
    EscalationLevel.objects.filter(estimated_cost_low__isnull=False).update(
        estimated_cost_high=F("estimated_cost_low")
    )
    for framework in Framework.objects.all():
        codes = list(
            EscalationLevel.objects.filter(framework=framework)
            .order_by("position", "id")
            .values_list("currency", flat=True)
        )
        if not codes:
            continue
        counts = Counter(codes)
        currency = max(codes, key=lambda code: (counts[code], -codes.index(code)))
        Framework.objects.filter(pk=framework.pk).update(currency=currency)
        EscalationLevel.objects.filter(framework=framework, currency=currency).update(currency="")
    # The updated rows queue the deferred position check; run it now, before the constraints
    # below alter the table (PostgreSQL refuses ALTER TABLE with pending trigger events).
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def restore_currency(apps, schema_editor):
    Framework = apps.get_model("escalation", "Framework")
    EscalationLevel = apps.get_model("escalation", "EscalationLevel")
    for framework in Framework.objects.all():
        EscalationLevel.objects.filter(framework=framework, currency="").update(
            currency=framework.currency
        )


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0009_ladder"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="escalationlevel", name="level_currency_is_iso_code"),
        migrations.RemoveConstraint(
            model_name="escalationlevel", name="level_group_rule_names_a_group"
        ),
        migrations.RenameField(
            model_name="escalationlevel",
            old_name="estimated_cost_delta",
            new_name="estimated_cost_low",
        ),
        migrations.RenameField(
            model_name="escalationlevel",
            old_name="timeline_delta_days",
            new_name="timeline_amount",
        ),
        migrations.AlterField(
            model_name="escalationlevel",
            name="estimated_cost_low",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=14,
                null=True,
                validators=[django.core.validators.MinValueValidator(0)],
                verbose_name="estimated cost (low end)",
            ),
        ),
        migrations.AlterField(
            model_name="escalationlevel",
            name="timeline_amount",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                validators=[django.core.validators.MaxValueValidator(3650)],
                verbose_name="timeline",
            ),
        ),
        migrations.AlterField(
            model_name="escalationlevel",
            name="approval_group",
            field=models.CharField(
                blank=True,
                help_text="Names of the group, separated by commas, when all or k of them must approve.",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="escalationlevel",
            name="approval_rule",
            field=models.CharField(
                choices=[
                    ("single", "Single approver"),
                    ("all_of_group", "All of a named group"),
                    ("k_of_group", "Any k of a named group"),
                ],
                default="single",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="escalationlevel",
            name="currency",
            field=models.CharField(
                blank=True,
                help_text="Empty: the framework's currency.",
                max_length=3,
                validators=[escalation.models.framework.CURRENCY_CODE],
                verbose_name="currency (ISO code)",
            ),
        ),
        migrations.AddField(
            model_name="framework",
            name="currency",
            field=models.CharField(
                default="EUR",
                max_length=3,
                validators=[escalation.models.framework.CURRENCY_CODE],
                verbose_name="framework currency (ISO code)",
            ),
        ),
        migrations.AddField(
            model_name="framework",
            name="overrun_rule",
            field=models.TextField(
                default=DEFAULT_OVERRUN_RULE,
                help_text="What happens when a level's spend would pass its cost ceiling.",
                verbose_name="cost overrun rule",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="estimated_cost_high",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Empty: a single figure, the low end.",
                max_digits=14,
                null=True,
                validators=[django.core.validators.MinValueValidator(0)],
                verbose_name="estimated cost (high end)",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="cost_basis",
            field=models.CharField(
                choices=[("one_off", "one-off"), ("monthly", "per month")],
                default="one_off",
                max_length=10,
                verbose_name="estimate is",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="cost_ceiling_basis",
            field=models.CharField(
                choices=[("one_off", "one-off"), ("monthly", "per month")],
                default="one_off",
                max_length=10,
                verbose_name="ceiling is",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="timeline_unit",
            field=models.CharField(
                choices=[
                    ("working_days", "working days"),
                    ("calendar_days", "calendar days"),
                    ("weeks", "weeks"),
                    ("months", "months"),
                ],
                default="working_days",
                max_length=15,
                verbose_name="timeline unit",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="approvals_required",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="For any k of a group: how many of them must approve.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(100),
                ],
                verbose_name="approvals needed (k)",
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="deputy_name",
            field=models.CharField(
                blank=True, max_length=120, verbose_name="deputy approver (name)"
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="deputy_role",
            field=models.CharField(
                blank=True, max_length=120, verbose_name="deputy approver (role)"
            ),
        ),
        migrations.AddField(
            model_name="escalationlevel",
            name="overrun_rule",
            field=models.TextField(
                blank=True,
                help_text="Empty: the framework's overrun rule.",
                verbose_name="cost overrun rule",
            ),
        ),
        migrations.RunPython(inherit_currency, restore_currency),
        migrations.AddConstraint(
            model_name="framework",
            constraint=models.CheckConstraint(
                condition=Q(currency__regex="^[A-Z]{3}$"), name="framework_currency_is_iso_code"
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationlevel",
            constraint=models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex="^[A-Z]{3}$"),
                name="level_currency_is_iso_code",
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationlevel",
            constraint=models.CheckConstraint(
                condition=~Q(approval_rule__in=("all_of_group", "k_of_group"))
                | ~Q(approval_group=""),
                name="level_group_rule_names_a_group",
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationlevel",
            constraint=models.CheckConstraint(
                condition=~Q(approval_rule="k_of_group") | Q(approvals_required__gte=1),
                name="level_k_of_group_states_k",
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationlevel",
            constraint=models.CheckConstraint(
                condition=Q(estimated_cost_low__isnull=True, estimated_cost_high__isnull=True)
                | Q(estimated_cost_low__lte=F("estimated_cost_high")),
                name="level_cost_estimate_low_not_above_high",
            ),
        ),
    ]
