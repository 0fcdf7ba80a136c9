"""The escalation framework: the five steps' content, its frozen versions and generated packs.

Nothing here knows about people, roles or engagements: what the framework needs of them (an
author's name, approvers on a sign-off page) is passed in as data. `workshops` points at this app,
never the reverse.

Every editable item carries:
- `key`: a slug, stable within its framework, that the framework document uses for references and
  that diffs match items by (so renaming an item is a change, not a remove + add);
- `row_version`: optimistic locking; a save names the version it was edited from and is refused
  when someone saved in between (see `FrameworkItem.save_edited`);
- `carried_over`: the item's document form when it was copied from a previous review cycle, so the
  UI can mark what changed against that cycle (null for items created in this cycle).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import capfirst, slugify

from escalation import formatting


class StaleEditError(Exception):
    """Someone else saved this item after it was loaded into the form."""

    def __init__(self, current: FrameworkItem | Framework) -> None:
        super().__init__(f"{current} was changed by someone else")
        self.current = current


DEFAULT_SCOPE_CREEP_RULE = (
    "A level is entered only when every level below it has been tried, or is recorded as skipped "
    "with a reason and the approval of that level's owner."
)
# The method's step 4 (cost ceilings per level, rules that prevent scope creep) says what an
# overrun is answered with, not by how much: no figure of its own.
DEFAULT_OVERRUN_RULE = (
    "Spend that would pass a level's cost ceiling stops until the level's approvers approve a new "
    "ceiling; the overrun and the decision are recorded and taken to the next scheduled review."
)
DEFAULT_CURRENCY = "EUR"
CURRENCY_CODE = RegexValidator(
    r"^[A-Z]{3}$", "Use a three-letter ISO currency code, e.g. EUR or USD."
)


class Framework(models.Model):
    """One client's escalation framework: the working draft that versions are frozen from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("framework name", max_length=200)
    # Step 4: the rule that keeps teams from jumping up the ladder.
    scope_creep_rule = models.TextField("scope-creep rule", default=DEFAULT_SCOPE_CREEP_RULE)
    # Step 5: the review protocol's free text; cadences, triggers and sunset rules are rows.
    sunset_criteria = models.TextField(blank=True)
    row_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Step 4: the currency every level's figures are in unless the level names its own, and what
    # happens when a level's spend would pass its ceiling (a level may state its own rule).
    currency = models.CharField(
        "framework currency (ISO code)",
        max_length=3,
        default=DEFAULT_CURRENCY,
        validators=[CURRENCY_CODE],
    )
    overrun_rule = models.TextField(
        "cost overrun rule",
        default=DEFAULT_OVERRUN_RULE,
        help_text="What happens when a level's spend would pass its cost ceiling.",
    )

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="framework_currency_is_iso_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save_edited(self, *, loaded_row_version: int, update_fields: list[str]) -> None:
        """Save the framework's own fields edited on top of `loaded_row_version`, or raise
        StaleEditError; one compare-and-set UPDATE, as for FrameworkItem.save_edited."""
        values = {name: getattr(self, name) for name in update_fields}
        now = timezone.now()
        updated = Framework.objects.filter(pk=self.pk, row_version=loaded_row_version).update(
            **values, row_version=F("row_version") + 1, updated_at=now
        )
        if not updated:
            raise StaleEditError(Framework.objects.get(pk=self.pk))
        self.row_version = loaded_row_version + 1
        self.updated_at = now


class RevisionCounter(models.Model):
    """A number the database moves with every write to what its owner's cached renderings read,
    so that those can be kept under it and never go stale (escalation.caching). Written only by
    the database's triggers, never by Django: a write by any path, a bulk update or raw SQL
    included, moves it. Each value comes from one sequence, so a value is never given twice, not
    even by a transaction that rolled back. Concurrent writers of one owner queue on its row
    until the first commits: an entry made under a value holds that value's content or later.

    A concrete counter names its owner's id as its primary key (no foreign key: the owner's
    rows being deleted write their revision before the owner goes)."""

    revision = models.BigIntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk} at revision {self.revision}"

    @classmethod
    def of(cls, owner: models.Model) -> int:
        """The owner's current revision (one query); 0 before its first write."""
        found = cls._default_manager.filter(pk=owner.pk).values_list("revision", flat=True)
        return found.first() or 0

    @classmethod
    def column(cls, owner_field: str) -> models.Func:
        """The revision of the owner that an outer query's `owner_field` points to, as a column
        of that query (0 before its first write): `of()` without a query of its own. Written as
        SQL around the field: Django builds the same subquery from OuterRef at a millisecond a
        query, and every engagement page reads it (get_engagement_for)."""
        return _RevisionOf(cls, F(owner_field))


class _RevisionOf(models.Func):
    """COALESCE((SELECT revision FROM <counter> WHERE <owner id> = <field>), 0)."""

    output_field = models.BigIntegerField()

    def __init__(self, counter: type[RevisionCounter], owner_id: F) -> None:
        table, key = counter._meta.db_table, counter._meta.pk.column
        template = (
            f'COALESCE((SELECT "revision" FROM "{table}" WHERE "{key}" = %(expressions)s), 0)'
        )
        super().__init__(owner_id, template=template)


class FrameworkRevision(RevisionCounter):
    """Moved with every write to a framework's content (its own row, every item and every link
    between items; migration 0012), so that what is computed from the working draft (the
    checks, the draft's document) can be cached under it."""

    framework_id = models.BigIntegerField(primary_key=True)


class FrameworkItem(models.Model):
    """What every editable row of a framework shares: identity, ordering and optimistic locking."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    row_version = models.PositiveIntegerField(default=1)
    carried_over = models.JSONField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering: ClassVar[list[str]] = ["position", "id"]

    @classmethod
    def free_key(cls, framework: Framework, wanted: str) -> str:
        """`wanted` as a slug, with -2, -3, ... appended while another item holds it."""
        base = slugify(wanted.replace("_", "-"))[:70].strip("-") or cls._meta.model_name or "item"
        taken = set(
            cls._default_manager.filter(framework=framework, key__startswith=base).values_list(
                "key", flat=True
            )
        )
        key, number = base, 1
        while key in taken:
            number += 1
            key = f"{base}-{number}"
        return key

    @classmethod
    def move(cls, item: FrameworkItem, *, up: bool) -> dict[str, int] | None:
        """Swap `item` with its neighbour above or below; the positions before and after, or None
        when it is already at that end. Positions are renumbered 0..n-1 on the way."""
        # Atomic with the siblings locked: two facilitators reordering at once would otherwise
        # renumber from different snapshots (levels' unique positions are checked at commit).
        with transaction.atomic():
            siblings = list(
                cls._default_manager.filter(framework_id=item.framework_id)
                .select_for_update()
                .order_by("position", "id")
            )
            index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
            target = index - 1 if up else index + 1
            if not 0 <= target < len(siblings):
                return None
            siblings[index], siblings[target] = siblings[target], siblings[index]
            renumbered = []
            for position, sibling in enumerate(siblings):
                if sibling.position != position:
                    sibling.position = position
                    renumbered.append(sibling)
            cls._default_manager.bulk_update(renumbered, ["position"])
            # A move is an edit of each renumbered row: an edit loaded before it must be told,
            # not write its old position back and silently undo the move.
            cls._default_manager.filter(pk__in=[sibling.pk for sibling in renumbered]).update(
                row_version=F("row_version") + 1
            )
        return {"before": index, "after": target}

    def save_edited(
        self, *, loaded_row_version: int, update_fields: list[str] | None = None
    ) -> None:
        """Save an edit made on top of `loaded_row_version`, or raise StaleEditError.

        The compare-and-set runs as one UPDATE ... WHERE row_version = loaded, so two concurrent
        saves of the same item cannot both succeed: the second matches no row.
        """
        fields = update_fields or [
            field.attname
            for field in self._meta.concrete_fields
            if not field.primary_key and field.attname not in {"row_version", "updated_at"}
        ]
        values = {name: getattr(self, name) for name in fields}
        now = timezone.now()
        updated = (
            type(self)
            ._default_manager.filter(pk=self.pk, row_version=loaded_row_version)
            .update(**values, row_version=F("row_version") + 1, updated_at=now)
        )
        if not updated:
            raise StaleEditError(type(self)._default_manager.get(pk=self.pk))
        self.row_version = loaded_row_version + 1
        self.updated_at = now


class AISystem(FrameworkItem):
    """A production model and the workflow it serves: what thresholds are set for."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="ai_systems")
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120, blank=True)
    model_name = models.CharField("model", max_length=120)
    model_version = models.CharField(max_length=60, blank=True)
    workflow = models.CharField(
        "workflow / use case", max_length=200, help_text="The use case this model serves."
    )
    business_owner = models.CharField(max_length=120, blank=True)
    output_types = ArrayField(
        models.CharField(max_length=60),
        default=list,
        blank=True,
        help_text="Separated by commas, e.g. summary, classification, extraction, chat answer.",
    )
    # Where the system stands on the ladder today, and the rungs it cannot climb (fine-tuning a
    # hosted closed model): what the live evaluation will start from.
    current_level = models.ForeignKey(
        "EscalationLevel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="current_systems",
        verbose_name="current escalation level",
        help_text="Empty: not escalated yet.",
    )
    unavailable_levels: models.ManyToManyField[EscalationLevel, Any] = models.ManyToManyField(
        "EscalationLevel",
        blank=True,
        related_name="unavailable_to",
        verbose_name="levels not available to it",
        help_text="E.g. fine-tuning, when the vendor's hosted model cannot be fine-tuned.",
    )

    class Meta(FrameworkItem.Meta):
        verbose_name = "AI system"
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="ai_system_key_unique"),
            models.UniqueConstraint(fields=["framework", "name"], name="ai_system_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class LatencyPercentile(models.TextChoices):
    P50 = "p50", "p50"
    P90 = "p90", "p90"
    P95 = "p95", "p95"
    P99 = "p99", "p99"


class Threshold(FrameworkItem):
    """Step 1: the performance bounds of one AI system (per output type where it differs)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="thresholds")
    ai_system = models.ForeignKey(
        AISystem, on_delete=models.CASCADE, related_name="thresholds", verbose_name="AI system"
    )
    output_type = models.CharField(
        max_length=60, blank=True, help_text="Leave blank when the bounds hold for every output."
    )
    measurement_window_hours = models.PositiveIntegerField(
        "measurement window (hours)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
    )
    data_source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the measurements come from, unless a bound says.",
    )
    trigger_breaches = models.PositiveSmallIntegerField(
        "escalate when breached in",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    trigger_windows = models.PositiveSmallIntegerField(
        "of the last … windows",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="threshold_key_unique"),
            models.UniqueConstraint(
                fields=["ai_system", "output_type"], name="threshold_one_per_system_and_output"
            ),
            models.CheckConstraint(
                condition=Q(measurement_window_hours__gte=1), name="threshold_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(trigger_breaches__gte=1, trigger_breaches__lte=F("trigger_windows")),
                name="threshold_breaches_within_windows",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ai_system.name} · {self.output_type or 'all outputs'}"

    def clean(self) -> None:
        if (
            self.trigger_breaches is not None
            and self.trigger_windows is not None
            and self.trigger_breaches > self.trigger_windows
        ):
            raise ValidationError(
                {"trigger_breaches": "Breaches cannot exceed the number of windows looked at."}
            )

    @property
    def trigger_rule(self) -> str:
        return formatting.trigger_rule(
            self.trigger_breaches, self.trigger_windows, self.measurement_window_hours
        )


class LevelKind(models.TextChoices):
    PROMPT_OPTIMIZATION = "prompt_optimization", "Prompt optimization"
    RETRIEVAL_AUGMENTATION = "retrieval_augmentation", "Retrieval augmentation"
    FEW_SHOT_ENRICHMENT = "few_shot_enrichment", "Few-shot enrichment"
    FINE_TUNING = "fine_tuning", "Fine-tuning"
    HYBRID_ROUTING = "hybrid_routing", "Hybrid routing"
    MODEL_REPLACEMENT = "model_replacement", "Full model replacement"
    CUSTOM = "custom", "Custom level"


class ApprovalRule(models.TextChoices):
    SINGLE = "single", "Single approver"
    ALL_OF_GROUP = "all_of_group", "All of a named group"
    K_OF_GROUP = "k_of_group", "Any k of a named group"


# The rules that name a group of approvers.
GROUP_RULES = (ApprovalRule.ALL_OF_GROUP, ApprovalRule.K_OF_GROUP)


class CostBasis(models.TextChoices):
    ONE_OFF = "one_off", "one-off"
    MONTHLY = "monthly", "per month"


class TimelineUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "working days"
    CALENDAR_DAYS = "calendar_days", "calendar days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"


class EscalationLevel(FrameworkItem):
    """Step 3 (the ladder) and step 4 (its governance and cost guardrails), one rung each."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(max_length=120)
    kind = models.CharField(
        "kind of level", max_length=30, choices=LevelKind.choices, default=LevelKind.CUSTOM
    )
    # Step 3.
    trigger = models.TextField(blank=True, help_text="What sends a model to this level.")
    entry_criteria = models.TextField(blank=True)
    exit_criteria = models.TextField(
        "exit / success criteria", blank=True, help_text="What success looks like."
    )
    rollback_rule = models.TextField(blank=True)
    # Step 4.
    approval_owner_name = models.CharField("approval owner (name)", max_length=120, blank=True)
    approval_owner_role = models.CharField("approval owner (role)", max_length=120, blank=True)
    approval_rule = models.CharField(
        max_length=20, choices=ApprovalRule.choices, default=ApprovalRule.SINGLE
    )
    approval_group = models.CharField(
        max_length=300,
        blank=True,
        help_text="Names of the group, separated by commas, when all or k of them must approve.",
    )
    cost_ceiling = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(
        "currency (ISO code)",
        max_length=3,
        blank=True,
        validators=[CURRENCY_CODE],
        help_text="Empty: the framework's currency.",
    )
    estimated_cost_low = models.DecimalField(
        "estimated cost (low end)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    timeline_amount = models.PositiveIntegerField(
        "timeline", null=True, blank=True, validators=[MaxValueValidator(3650)]
    )
    # Step 4, v2: the rest of a level's governance.
    estimated_cost_high = models.DecimalField(
        "estimated cost (high end)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Empty: a single figure, the low end.",
    )
    cost_basis = models.CharField(
        "estimate is", max_length=10, choices=CostBasis.choices, default=CostBasis.ONE_OFF
    )
    cost_ceiling_basis = models.CharField(
        "ceiling is", max_length=10, choices=CostBasis.choices, default=CostBasis.ONE_OFF
    )
    timeline_unit = models.CharField(
        "timeline unit",
        max_length=15,
        choices=TimelineUnit.choices,
        default=TimelineUnit.WORKING_DAYS,
    )
    approvals_required = models.PositiveSmallIntegerField(
        "approvals needed (k)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="For any k of a group: how many of them must approve.",
    )
    deputy_name = models.CharField("deputy approver (name)", max_length=120, blank=True)
    deputy_role = models.CharField("deputy approver (role)", max_length=120, blank=True)
    overrun_rule = models.TextField(
        "cost overrun rule",
        blank=True,
        help_text="Empty: the framework's overrun rule.",
    )
    # Step 3: when this rung may be entered directly, skipping the rungs below it.
    direct_entry_when = models.TextField(
        "direct entry (skipping lower levels) when",
        blank=True,
        help_text="Leave blank when the level is only entered after the ones below it.",
    )
    direct_entry_approver = models.CharField(
        "direct entry approved by",
        max_length=120,
        blank=True,
        help_text="Who approves entering this level directly.",
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="level_key_unique"),
            models.UniqueConstraint(fields=["framework", "name"], name="level_name_unique"),
            models.UniqueConstraint(
                fields=["framework", "position"],
                name="level_position_unique",
                # Reordering swaps positions inside one transaction.
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(
                condition=Q(cost_ceiling__isnull=True) | Q(cost_ceiling__gte=0),
                name="level_cost_ceiling_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=r"^[A-Z]{3}$"),
                name="level_currency_is_iso_code",
            ),
            models.CheckConstraint(
                condition=~Q(approval_rule__in=GROUP_RULES) | ~Q(approval_group=""),
                name="level_group_rule_names_a_group",
            ),
            models.CheckConstraint(
                condition=Q(direct_entry_when="") | ~Q(direct_entry_approver=""),
                name="level_direct_entry_names_an_approver",
            ),
            models.CheckConstraint(
                condition=~Q(approval_rule=ApprovalRule.K_OF_GROUP) | Q(approvals_required__gte=1),
                name="level_k_of_group_states_k",
            ),
            models.CheckConstraint(
                condition=Q(estimated_cost_low__isnull=True, estimated_cost_high__isnull=True)
                | Q(estimated_cost_low__lte=F("estimated_cost_high")),
                name="level_cost_estimate_low_not_above_high",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def approval_group_names(self) -> list[str]:
        return formatting.names(self.approval_group)

    @property
    def approvers_needed(self) -> int:
        """How many people must approve: one, the whole group, or k of it."""
        if self.approval_rule == ApprovalRule.ALL_OF_GROUP:
            return len(self.approval_group_names)
        if self.approval_rule == ApprovalRule.K_OF_GROUP:
            return self.approvals_required or 0
        return 1

    def currency_in(self, framework: Framework) -> str:
        """The level's own currency, else the framework's."""
        return self.currency or framework.currency

    def clean(self) -> None:
        problems: dict[str, str] = {}
        if self.approval_rule in GROUP_RULES and not self.approval_group.strip():
            problems["approval_group"] = "Name the group whose approval is required."
        if self.approval_rule == ApprovalRule.K_OF_GROUP and not self.approvals_required:
            problems["approvals_required"] = "Say how many of the group must approve."
        low, high = self.estimated_cost_low, self.estimated_cost_high
        if (low is None) != (high is None):
            problems["estimated_cost_high"] = "Give both ends of the estimate, or neither."
        elif low is not None and high is not None and low > high:
            problems["estimated_cost_high"] = "The high end cannot be below the low end."
        # Any text at all (blanks too) states a skip, as the database constraint reads it.
        if self.direct_entry_when and not self.direct_entry_approver.strip():
            problems["direct_entry_approver"] = "Name who approves entering this level directly."
        if problems:
            raise ValidationError(problems)


class MetricKind(models.TextChoices):
    QUALITY = "quality", "Quality metric"
    ERROR_RATE = "error_rate", "Error rate"
    LATENCY = "latency", "Latency"
    THROUGHPUT = "throughput", "Throughput"
    CONFIDENCE = "confidence", "Confidence score"
    CUSTOM = "custom", "Custom metric"


class Direction(models.TextChoices):
    AT_LEAST = "at_least", "at least (≥)"
    AT_MOST = "at_most", "at most (≤)"

    @property
    def symbol(self) -> str:
        return "≥" if self is Direction.AT_LEAST else "≤"


class Unit(models.TextChoices):
    RATIO = "ratio", "ratio (0–1)"
    PERCENT = "percent", "percent"
    MILLISECONDS = "ms", "milliseconds"
    SECONDS = "s", "seconds"
    PER_MINUTE = "per_minute", "per minute"
    PER_HOUR = "per_hour", "per hour"
    SCORE = "score", "score out of N"


class Bound(FrameworkItem):
    """Step 1: one bound of a threshold ("≥ 0.985 field accuracy", "p99 ≤ 8 s").

    Only metric, direction, value and unit are required; the measurement window and the k-of-n
    trigger default to the threshold's when left empty, so a bound says only what the client set.
    """

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="bounds")
    threshold = models.ForeignKey(Threshold, on_delete=models.CASCADE, related_name="bounds")
    metric_kind = models.CharField(
        "metric", max_length=20, choices=MetricKind.choices, default=MetricKind.QUALITY
    )
    metric_name = models.CharField(
        max_length=80, blank=True, help_text="E.g. field accuracy, CSAT rating, calibration error."
    )
    error_definition = models.CharField(
        "what counts as an error",
        max_length=200,
        blank=True,
        help_text="One line, for an error rate: e.g. a wrong amount in an extracted field.",
    )
    percentile = models.CharField(
        "latency percentile", max_length=3, choices=LatencyPercentile.choices, blank=True
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    # Ratios need four places and more (0.9855); latencies and counts none: one field holds both.
    value = models.DecimalField(max_digits=20, decimal_places=6)
    unit = models.CharField("unit or scale", max_length=12, choices=Unit.choices)
    counted_thing = models.CharField(
        "counted per minute / hour",
        max_length=60,
        blank=True,
        help_text="For a rate: what is counted, e.g. requests, documents.",
    )
    scale_max = models.DecimalField(
        "score out of",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="For a score: the top of its scale, e.g. 5.",
    )
    window_hours = models.PositiveIntegerField(
        "measurement window (hours)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="Empty: the threshold's window.",
    )
    trigger_breaches = models.PositiveSmallIntegerField(
        "escalate when breached in",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    trigger_windows = models.PositiveSmallIntegerField(
        "of the last … windows",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Empty: the threshold's trigger rule.",
    )
    immediate_breach_value = models.DecimalField(
        "immediate breach at",
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="A value that escalates at once, without waiting for the trigger rule.",
    )
    baseline_value = models.DecimalField(
        "baseline (observed today)", max_digits=20, decimal_places=6, null=True, blank=True
    )
    minimum_sample_size = models.PositiveIntegerField(
        "minimum sample per window", null=True, blank=True
    )
    data_source = models.CharField(
        max_length=200, blank=True, help_text="Empty: the threshold's data source."
    )
    escalates_to = models.ManyToManyField(
        EscalationLevel,
        blank=True,
        related_name="bounds",
        verbose_name="escalates to levels",
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="bound_key_unique"),
            models.CheckConstraint(
                condition=~Q(unit="ratio") | Q(value__gte=0, value__lte=1),
                name="bound_ratio_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=~Q(unit="percent") | Q(value__gte=0, value__lte=100),
                name="bound_percent_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=~Q(unit="score") | Q(scale_max__isnull=False),
                name="bound_score_has_scale",
            ),
            models.CheckConstraint(
                condition=Q(trigger_breaches__isnull=True)
                | Q(trigger_windows__isnull=True)
                | Q(trigger_breaches__lte=F("trigger_windows")),
                name="bound_breaches_within_windows",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return formatting.bound(
            metric_kind=self.metric_kind,
            metric_name=self.metric_name,
            percentile=self.percentile,
            direction=self.direction,
            value=self.value,
            unit=self.unit,
            counted_thing=self.counted_thing,
            scale_max=self.scale_max,
        )

    def clean(self) -> None:
        problems: dict[str, str] = {}
        if self.value is not None:
            if self.unit == Unit.RATIO and not 0 <= self.value <= 1:
                problems["value"] = "A ratio lies between 0 and 1 (0.985, not 98.5)."
            if self.unit == Unit.PERCENT and not 0 <= self.value <= 100:
                problems["value"] = "A percentage lies between 0 and 100."
            if (
                self.unit == Unit.SCORE
                and self.scale_max is not None
                and self.value > self.scale_max
            ):
                problems["value"] = "The value is above the top of its scale."
        if self.unit == Unit.SCORE and self.scale_max is None:
            problems["scale_max"] = "Say what the score is out of, e.g. 5."
        if (
            self.trigger_breaches is not None
            and self.trigger_windows is not None
            and self.trigger_breaches > self.trigger_windows
        ):
            problems["trigger_breaches"] = "Breaches cannot exceed the number of windows looked at."
        if problems:
            raise ValidationError(problems)


def field_label(model: type[models.Model], name: str) -> str:
    """A field's human name, from its verbose_name: the one label forms, step tables, the
    readable document and the artifacts all print."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is a relation's reverse side, not a field"
    return capfirst(str(field.verbose_name))
