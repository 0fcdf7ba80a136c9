"""Failure modes with their response paths, and the review protocol: drift and external triggers,
review cadences and sunset rules."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from escalation import formatting
from escalation.models.framework import (
    AISystem,
    Bound,
    EscalationLevel,
    Framework,
    FrameworkItem,
)


class FailureKind(models.TextChoices):
    FACTUAL_ERROR = "factual_error", "Factual error"
    HALLUCINATION = "hallucination", "Hallucination"
    FORMAT_VIOLATION = "format_violation", "Format violation"
    DOMAIN_MISAPPLICATION = "domain_misapplication", "Domain misapplication"
    CONFIDENCE_MISCALIBRATION = "confidence_miscalibration", "Confidence miscalibration"
    CUSTOM = "custom", "Custom failure type"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class FailureMode(FrameworkItem):
    """Step 2: one failure category and the response it calls for."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="failure_modes")
    name = models.CharField("failure mode", max_length=120)
    kind = models.CharField(
        "failure type", max_length=30, choices=FailureKind.choices, default=FailureKind.CUSTOM
    )
    description = models.TextField(blank=True)
    example = models.TextField(blank=True)
    detection_signal = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    recommended_level = models.ForeignKey(
        EscalationLevel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="failure_modes",
        verbose_name="recommended escalation level",
    )
    # The response path: the first rung, then the rungs to try if it fails (in ladder order).
    then_levels = models.ManyToManyField(
        EscalationLevel,
        blank=True,
        related_name="later_failure_modes",
        verbose_name="then, if that fails",
        help_text="The later rungs of the response path, tried in ladder order.",
    )
    applies_to = models.ManyToManyField(
        AISystem,
        blank=True,
        related_name="failure_modes",
        verbose_name="applies to AI systems",
        help_text="Leave empty for every AI system.",
    )
    detected_by = models.ManyToManyField(
        Bound,
        blank=True,
        related_name="detects",
        verbose_name="detected by bounds",
    )
    immediate_mitigation = models.TextField(blank=True)
    long_term_fix = models.TextField("long-term fix", blank=True)
    resolution_owner = models.CharField(max_length=120, blank=True)

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="failure_mode_key_unique"),
            models.UniqueConstraint(fields=["framework", "name"], name="failure_mode_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DriftMetric(models.TextChoices):
    QUALITY = "quality", "Quality metric"
    ERROR_RATE = "error_rate", "Error rate"
    LATENCY = "latency", "Latency"
    THROUGHPUT = "throughput", "Throughput"
    CONFIDENCE = "confidence", "Confidence score"
    INPUT_DRIFT_PSI = "input_drift_psi", "Input-distribution drift (PSI)"
    COST_PER_REQUEST = "cost_per_request", "Cost per request"
    VOLUME = "volume", "Volume"
    HUMAN_OVERRIDE_RATE = "human_override_rate", "Human override rate"


class DriftComparison(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute value"
    CHANGE_VS_PREVIOUS = "change_vs_previous", "Change versus the previous window"
    CHANGE_VS_BASELINE = "change_vs_baseline", "Change versus the baseline"


class DriftOperator(models.TextChoices):
    ABOVE = "above", "Above"
    BELOW = "below", "Below"


class WindowUnit(models.TextChoices):
    DAYS = "days", "days"
    HOURS = "hours", "hours"


# The longest window a drift trigger may look over, per unit (a year).
MAX_WINDOW: dict[str, int] = {WindowUnit.DAYS: 365, WindowUnit.HOURS: 24 * 365}


class DriftTrigger(FrameworkItem):
    """Step 5: a drift or alert condition that calls an unscheduled review."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="drift_triggers"
    )
    ai_system = models.ForeignKey(
        AISystem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="drift_triggers",
        verbose_name="AI system",
        help_text="Leave blank for every AI system.",
    )
    metric = models.CharField(max_length=20, choices=DriftMetric.choices)
    # A trigger is data a program can evaluate: metric, comparison, operator, value, window.
    # One upgraded from free text (before schema v2's drift fields) keeps its text as the note
    # and has no comparison, operator or value until someone gives it one (a check says so).
    comparison = models.CharField(
        max_length=20, choices=DriftComparison.choices, blank=True, default=""
    )
    operator = models.CharField(
        max_length=10, choices=DriftOperator.choices, blank=True, default=""
    )
    value = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="For a change: the change in the metric's own unit (−0.02, +150).",
    )
    window = models.PositiveSmallIntegerField(
        "window", default=7, validators=[MinValueValidator(1), MaxValueValidator(24 * 365)]
    )
    window_unit = models.CharField(
        "window unit", max_length=10, choices=WindowUnit.choices, default=WindowUnit.DAYS
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="drift_trigger_key_unique"),
            models.CheckConstraint(
                condition=Q(window__gte=1), name="drift_trigger_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | (~Q(comparison="") & ~Q(operator="")),
                name="drift_trigger_value_has_comparison_and_operator",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(note=""),
                name="drift_trigger_value_or_note",
            ),
        ]

    def __str__(self) -> str:
        return self.sentence

    @property
    def needs_value(self) -> bool:
        """Upgraded from free text and not yet given a value: no program can evaluate it."""
        return self.value is None

    @property
    def sentence(self) -> str:
        return formatting.drift_trigger(
            metric=self.metric,
            comparison=self.comparison,
            operator=self.operator,
            value=self.value,
            window=self.window,
            window_unit=self.window_unit,
            note=self.note,
        )

    def clean(self) -> None:
        errors = {}
        if self.value is not None or self.comparison or self.operator:
            for name in ("comparison", "operator", "value"):
                if getattr(self, name) in (None, ""):
                    errors[name] = "A trigger a program can evaluate needs this."
        elif not self.note.strip():
            errors["value"] = "Give the trigger a comparison, operator and value."
        limit = MAX_WINDOW.get(self.window_unit)
        if limit is not None and self.window is not None and self.window > limit:
            errors["window"] = f"At most {limit} {self.window_unit} (a year)."
        if errors:
            raise ValidationError(errors)


class ExternalEvent(models.TextChoices):
    FOUNDATION_MODEL_UPDATE = "foundation_model_update", "Foundation model update"
    MODEL_DEPRECATION = "model_deprecation", "Model deprecation"
    REGULATORY_CHANGE = "regulatory_change", "Regulatory change"
    VENDOR_PRICING_CHANGE = "vendor_pricing_change", "Vendor pricing change"
    SECURITY_INCIDENT = "security_incident", "Security incident"
    CUSTOM = "custom", "Other event"


class ExternalTrigger(FrameworkItem):
    """Step 5: an outside event that may reset the cost-benefit calculation."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="external_triggers"
    )
    event = models.CharField(max_length=30, choices=ExternalEvent.choices)
    description = models.TextField(blank=True)
    response = models.TextField("what the review must reconsider", blank=True)
    ai_systems = models.ManyToManyField(
        AISystem,
        blank=True,
        related_name="external_triggers",
        verbose_name="AI systems concerned",
        help_text="Leave empty for every AI system.",
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="external_trigger_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_event_display()


class CadenceFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    HALF_YEARLY = "half_yearly", "Half-yearly"
    YEARLY = "yearly", "Yearly"


class DayRule(models.TextChoices):
    SAME_DAY = "same_day", "The first date's day"
    NTH_WEEKDAY = "nth_weekday", "A weekday of the month (first Tuesday)"
    DAY_OF_MONTH = "day_of_month", "A fixed day of the month"


class Ordinal(models.IntegerChoices):
    FIRST = 1, "First"
    SECOND = 2, "Second"
    THIRD = 3, "Third"
    FOURTH = 4, "Fourth"
    LAST = -1, "Last"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"


class Shift(models.TextChoices):
    NEXT = "next_working_day", "To the next working day"
    PREVIOUS = "previous_working_day", "To the previous working day"
    NONE = "none", "Not moved"


class ReviewCadence(FrameworkItem):
    """Step 5: one scheduled review (a monthly operational review, a quarterly framework
    review, an annual re-approval), its dates computed by escalation.schedule."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="review_cadences"
    )
    name = models.CharField(max_length=120)
    frequency = models.CharField(
        max_length=20, choices=CadenceFrequency.choices, default=CadenceFrequency.QUARTERLY
    )
    day_rule = models.CharField(
        "day", max_length=20, choices=DayRule.choices, default=DayRule.SAME_DAY
    )
    ordinal = models.SmallIntegerField("which", choices=Ordinal.choices, null=True, blank=True)
    weekday = models.SmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(
        "day of the month",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="31 means the month's last day in shorter months.",
    )
    first_date = models.DateField(
        "first date", null=True, blank=True, help_text="The schedule starts on or after it."
    )
    shift = models.CharField(
        "off weekends and holidays", max_length=30, choices=Shift.choices, default=Shift.NEXT
    )

    class Meta(FrameworkItem.Meta):
        verbose_name = "review cadence"
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="review_cadence_key_unique"),
            models.UniqueConstraint(
                fields=["framework", "name"], name="review_cadence_name_unique"
            ),
            models.CheckConstraint(
                condition=~Q(day_rule="nth_weekday") | Q(weekday__isnull=False),
                name="review_cadence_nth_weekday_named",
            ),
            models.CheckConstraint(
                condition=~Q(day_rule="day_of_month")
                | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="review_cadence_day_of_month_between_1_and_31",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.day_rule == DayRule.NTH_WEEKDAY:
            if self.weekday is None:
                errors["weekday"] = "Name the weekday."
            # A weekly cadence has one of each weekday: only the others say which one.
            if self.ordinal is None and self.frequency != CadenceFrequency.WEEKLY:
                errors["ordinal"] = "Say which one of the month (first, second, …, last)."
        if self.day_rule == DayRule.DAY_OF_MONTH:
            if self.frequency == CadenceFrequency.WEEKLY:
                errors["day_rule"] = "A weekly cadence falls on a weekday, not a day of the month."
            elif self.day_of_month is None:
                errors["day_of_month"] = "Name the day of the month."
        if errors:
            raise ValidationError(errors)


class SunsetRule(FrameworkItem):
    """Step 5: when a level is rolled back because it has not paid off: after `after_days` at
    the level, the metric must have closed `required_improvement` of the gap to its threshold."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="sunset_rules")
    levels = models.ManyToManyField(
        EscalationLevel, related_name="sunset_rules", verbose_name="levels"
    )
    after_days = models.PositiveIntegerField(
        "after (days)", validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    required_improvement = models.DecimalField(
        "required improvement",
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="The fraction of the gap to the threshold it must have closed, 0 to 1 (0.5).",
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="sunset_rule_key_unique"),
            models.CheckConstraint(
                condition=Q(required_improvement__gte=0, required_improvement__lte=1),
                name="sunset_rule_improvement_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(after_days__gte=1), name="sunset_rule_after_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"After {formatting.days(self.after_days)}"
