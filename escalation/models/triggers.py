"""Failure modes with their response paths, and the review protocol's drift and external triggers."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

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
    change = models.CharField(
        "change that triggers a review",
        max_length=200,
        help_text="E.g. drops by more than 5 points.",
    )
    window_days = models.PositiveSmallIntegerField(
        "window (days)", default=7, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "key"], name="drift_trigger_key_unique"),
            models.CheckConstraint(
                condition=Q(window_days__gte=1), name="drift_trigger_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.change}"


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

    class Meta(FrameworkItem.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="external_trigger_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_event_display()
