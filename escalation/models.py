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
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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


class ReviewFrequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Every six months"
    ANNUAL = "annual", "Annually"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[self.value]


DEFAULT_SCOPE_CREEP_RULE = (
    "A level is entered only when every level below it has been tried, or is recorded as skipped "
    "with a reason and the approval of that level's owner."
)


class Framework(models.Model):
    """One client's escalation framework: the working draft that versions are frozen from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("framework name", max_length=200)
    # Step 4: the rule that keeps teams from jumping up the ladder.
    scope_creep_rule = models.TextField("scope-creep rule", default=DEFAULT_SCOPE_CREEP_RULE)
    # Step 5: the review protocol's scalar parts; drift and external triggers are rows below.
    review_frequency = models.CharField(
        "scheduled review frequency",
        max_length=20,
        choices=ReviewFrequency.choices,
        default=ReviewFrequency.QUARTERLY,
    )
    first_review_date = models.DateField("first scheduled review", null=True, blank=True)
    sunset_criteria = models.TextField(blank=True)
    row_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

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
    quality_metric = models.CharField(max_length=80, help_text="E.g. groundedness score.")
    quality_floor = models.DecimalField(
        "quality floor (0–100)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Minimum acceptable value of the quality metric, on a 0–100 scale.",
    )
    error_rate_ceiling_pct = models.DecimalField(
        "error-rate ceiling (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    latency_percentile = models.CharField(
        max_length=3, choices=LatencyPercentile.choices, default=LatencyPercentile.P95
    )
    latency_limit_ms = models.PositiveIntegerField(
        "latency limit (ms)", validators=[MinValueValidator(1), MaxValueValidator(600_000)]
    )
    throughput_floor_rpm = models.PositiveIntegerField(
        "throughput floor (requests/min)", validators=[MaxValueValidator(10_000_000)]
    )
    confidence_minimum = models.DecimalField(
        "confidence minimum (0–1)",
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    measurement_window_hours = models.PositiveIntegerField(
        "measurement window (hours)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
    )
    data_source = models.CharField(max_length=200, blank=True)
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
                condition=Q(quality_floor__gte=0, quality_floor__lte=100),
                name="threshold_quality_floor_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=Q(error_rate_ceiling_pct__gte=0, error_rate_ceiling_pct__lte=100),
                name="threshold_error_rate_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=Q(confidence_minimum__gte=0, confidence_minimum__lte=1),
                name="threshold_confidence_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(latency_limit_ms__gte=1), name="threshold_latency_positive"
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


class EscalationLevel(FrameworkItem):
    """Step 3 (the ladder) and step 4 (its governance and cost guardrails), one rung each."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(max_length=120)
    kind = models.CharField(
        "kind of level", max_length=30, choices=LevelKind.choices, default=LevelKind.CUSTOM
    )
    # Step 3.
    trigger = models.TextField(blank=True, help_text="What sends a model to this level.")
    trigger_thresholds = models.ManyToManyField(
        Threshold,
        blank=True,
        related_name="escalates_to",
        verbose_name="threshold breaches that lead here",
    )
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
        max_length=300, blank=True, help_text="Names of the group, when all of them must approve."
    )
    cost_ceiling = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField("currency (ISO code)", max_length=3, default="EUR")
    estimated_cost_delta = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    timeline_delta_days = models.PositiveIntegerField(
        "timeline delta (days)", null=True, blank=True, validators=[MaxValueValidator(3650)]
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
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="level_currency_is_iso_code"
            ),
            models.CheckConstraint(
                condition=~Q(approval_rule="all_of_group") | ~Q(approval_group=""),
                name="level_group_rule_names_a_group",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.approval_rule == ApprovalRule.ALL_OF_GROUP and not self.approval_group.strip():
            raise ValidationError({"approval_group": "Name the group whose approval is required."})


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


class FrameworkVersion(models.Model):
    """An immutable snapshot of the framework document (v1, v2, ...).

    The database itself refuses UPDATE of the frozen columns and any DELETE (trigger in migration
    0002), so not even raw SQL can rewrite an approved governing document.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    sha256 = models.CharField(max_length=64)
    summary = models.TextField(blank=True)
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["framework", "number"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["framework", "number"], name="version_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_from_1"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="version_sha256_is_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    @property
    def label(self) -> str:
        return f"v{self.number}"


class DiagramRender(models.Model):
    """A drawn ladder, kept by the hash of its DOT source and format.

    Kept in the database rather than a per-process cache so every gunicorn worker and the task
    worker share it and it survives restarts: an unchanged ladder is drawn once, ever.
    """

    class Format(models.TextChoices):
        SVG = "svg", "SVG"
        PNG = "png", "PNG"

    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=3, choices=Format.choices)
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["sha256", "format"], name="diagram_render_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.format} {self.sha256[:12]}"


# A large pack renders in seconds; one unfinished after this long will not finish by itself.
PACK_STALLED_AFTER = timedelta(minutes=10)


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class PackQuerySet(models.QuerySet["Pack"]):
    def of(self, framework: Framework, version: FrameworkVersion | None) -> PackQuerySet:
        """The packs of one version, or of the working draft when `version` is None."""
        return self.filter(framework=framework, version=version)


class Pack(models.Model):
    """The PDF pack of a version (or of the working draft), generated in the background.

    `context` holds what the pack needs of the engagement (cover, decisions, sign-off), captured
    by the caller when the pack is requested: this app knows nothing of people and roles.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="packs")
    version = models.ForeignKey(
        FrameworkVersion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="packs",
        help_text="Empty for a pack of the working draft.",
    )
    status = models.CharField(max_length=10, choices=PackStatus.choices, default=PackStatus.QUEUED)
    # How far a running generation has got, 0–100, for the progress bar.
    progress = models.PositiveSmallIntegerField(default=0)
    signed = models.BooleanField(
        default=False, help_text="A pack of a signed-off version carries a digital signature."
    )
    # What is rendered, captured when the pack is requested, so the file matches the request
    # even if the working draft changes while the pack waits in the queue.
    document = models.JSONField(default=dict)
    document_sha256 = models.CharField(max_length=64, blank=True)
    context = models.JSONField(default=dict)
    # The hash of document + context (without the generation time): equal requests share a pack.
    request_key = models.CharField(max_length=64, db_index=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PackQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        indexes: ClassVar[list[Any]] = [
            # Serves "the latest pack of this version" on the pack page and its polling.
            models.Index(fields=["framework", "version", "-created_at"], name="pack_latest"),
        ]
        constraints: ClassVar[list[Any]] = [
            # A downloadable pack always has its bytes: never a partial or missing file.
            models.CheckConstraint(
                condition=~Q(status="ready") | Q(pdf__isnull=False), name="pack_ready_has_pdf"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="pack_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"pack of {self.version or 'draft'} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {PackStatus.READY, PackStatus.FAILED}

    @property
    def is_stalled(self) -> bool:
        """Waiting or running far longer than a pack takes: no worker, or a worker that died."""
        if self.is_finished:
            return False
        return timezone.now() - (self.started_at or self.created_at) > PACK_STALLED_AFTER

    @property
    def filename(self) -> str:
        label = self.version.label if self.version else "draft"
        suffix = "-signed" if self.signed else ""
        return f"{slugify(self.framework.name) or 'framework'}-{label}{suffix}.pdf"


def field_label(model: type[models.Model], name: str) -> str:
    """A field's human name, from its verbose_name: the one label forms, step tables, the
    readable document and the artifacts all print."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is a relation's reverse side, not a field"
    return capfirst(str(field.verbose_name))
