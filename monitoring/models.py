"""The live framework's data: an engagement's API tokens, its metric points, and each window of
each bound evaluated against a signed-off version."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from escalation.models import FrameworkVersion
from workshops.models import Engagement
from workshops.stepup import AuthenticatedVia

TOKEN_PREFIX = "ewt_"


def token_digest(secret: str) -> str:
    """What is stored of a token: its SHA-256. The secret itself is shown once, never kept."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token that writes metric points into one engagement, and nothing else."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What sends with it, e.g. production OTel.")
    # The first characters of the secret, so a person can tell tokens apart; not enough to use one.
    prefix = models.CharField(max_length=12)
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(secret_sha256__regex=r"^[0-9a-f]{64}$"), name="api_token_sha256_is_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, engagement: Engagement, name: str, created_by: Any = None
    ) -> tuple[ApiToken, str]:
        """A new token and its secret, which the caller shows once."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            engagement=engagement,
            name=name,
            prefix=secret[:10],
            secret_sha256=token_digest(secret),
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        return token, secret

    @classmethod
    def authenticate(cls, secret: str) -> ApiToken | None:
        """The live token with this secret, its last use recorded; None for any other secret."""
        token = (
            cls.objects.active()
            .select_related("engagement__framework")  # intake's catalogue reads its revision
            .filter(secret_sha256=token_digest(secret))
            .first()
        )
        if token is not None:
            token.last_used_at = timezone.now()
            cls.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at)
        return token

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class MetricPoint(models.Model):
    """One measurement of one metric of one AI system (by key) at one time.

    Systems and metrics are named as in the framework document, not by foreign key: points outlive
    the draft's rows and are read against whichever version is in force."""

    # No index of its own: the unique constraint's index starts with it (one index less to
    # maintain on every insert).
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="metric_points", db_index=False
    )
    ai_system = models.CharField(max_length=80)
    output_type = models.CharField(max_length=60, blank=True)
    metric = models.CharField(max_length=80)
    time = models.DateTimeField()
    value = models.FloatField()
    sample_size = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            # Re-sending a point finds it here (ON CONFLICT): intake is idempotent. Its index also
            # serves the evaluation's reads, one series (system and metric) over a time range:
            # time before output type, which the reads filter on afterwards.
            models.UniqueConstraint(
                fields=["engagement", "ai_system", "metric", "time", "output_type"],
                name="metric_point_one_per_series_and_time",
            ),
            models.CheckConstraint(
                condition=Q(sample_size__gte=1), name="metric_point_sample_positive"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            # Points arrive roughly in time order: a BRIN index on time stays tiny at any volume
            # and serves scans of a time range across every series.
            BrinIndex(fields=["time"], name="metric_point_time_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.ai_system} {self.metric} at {self.time:%Y-%m-%d %H:%M}"


class Evaluation(models.Model):
    """That every stored point has been evaluated against `version`: from then on, new points
    re-evaluate only the windows they touch."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="+")
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement", "version"], name="evaluation_one_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} against {self.version}"


def four_significant_digits(value: float | None) -> str:
    """A window's value as pages show it: four significant digits (0.9855, 1234, 0.9)."""
    return "–" if value is None else f"{value:.4g}"


class WindowOutcome(models.TextChoices):
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"


class WindowKind(models.TextChoices):
    BOUND = "bound", "Bound"
    DRIFT = "drift", "Drift trigger"


class WindowResult(models.Model):
    """One window of one bound (or one drift trigger, for one AI system) of a signed-off version,
    evaluated: the history the live page charts and an auditor reads back.

    A drift trigger's row holds in `bound_key` the trigger's key, in `value` the number compared
    with the trigger's value (the window's metric, or its change), and in `metric_value` the
    window's metric itself, which the next window's change and the baseline are computed from."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="window_results"
    )
    # No index of its own: the unique constraint's index starts with it. With the table not yet
    # analyzed, the planner chose that index for re-evaluation's reads of a series' windows,
    # filtering every window of the version (450 ms a batch rather than 5), and it was one
    # index more to maintain on every window written.
    version = models.ForeignKey(
        FrameworkVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=WindowKind.choices, default=WindowKind.BOUND)
    bound_key = models.CharField(max_length=80)
    ai_system = models.CharField(max_length=80)
    window_start = models.DateTimeField()
    window_hours = models.PositiveIntegerField()
    value = models.FloatField(null=True, blank=True)
    metric_value = models.FloatField(null=True, blank=True)  # drift triggers only
    sample_size = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=WindowOutcome.choices)
    immediate_breach = models.BooleanField(default=False)
    breaches_in_last_n = models.PositiveSmallIntegerField(default=0)
    fired = models.BooleanField(default=False)
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            # Its index serves the live page (the latest windows of each bound) and re-evaluation.
            # A drift trigger for every AI system has one series per system, under one key.
            models.UniqueConstraint(
                fields=["version", "bound_key", "ai_system", "kind", "window_start"],
                name="window_result_one_per_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bound_key} {self.window_start:%Y-%m-%d %H:%M}: {self.outcome}"

    @property
    def value_shown(self) -> str:
        return four_significant_digits(self.value)


class CaseKind(models.TextChoices):
    BOUND_BREACH = "bound_breach", "Bound breached"
    EXTERNAL_EVENT = "external_event", "External event review"
    DRIFT = "drift", "Drift review"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open: awaiting the owner"
    APPROVED = "approved", "Approved: at the level"
    DECLINED = "declined", "Declined"
    ROLLED_BACK = "rolled_back", "Rolled back"
    CLOSED = "closed", "Closed"


# A case still in play: evidence goes to it, and no second one opens beside it.
ACTIVE_CASE_STATUSES = [CaseStatus.OPEN, CaseStatus.APPROVED]


class EscalationCaseQuerySet(models.QuerySet["EscalationCase"]):
    def active(self) -> EscalationCaseQuerySet:
        return self.filter(status__in=ACTIVE_CASE_STATUSES)


class EscalationCase(models.Model):
    """A proposal to move one AI system up the signed-off ladder, from a fired bound or a review
    trigger, and what became of it. The governance it proposes is a snapshot of the version in
    force when it opened, so a later version never rewrites what the owner was asked."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="cases")
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="+")
    ai_system = models.CharField(max_length=80)
    bound_key = models.CharField(max_length=80, blank=True)  # blank for a review case
    trigger_key = models.CharField(max_length=80, blank=True)  # the review trigger, if any
    kind = models.CharField(max_length=20, choices=CaseKind.choices)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    reason = models.TextField(max_length=2000, blank=True)  # why it opened, as recorded
    # The proposal: from which live level to which, and, for a jump past untried rungs, the
    # skip approval the level states.
    from_level_key = models.CharField(max_length=80, blank=True)
    proposed_level_key = models.CharField(max_length=80, blank=True)
    proposed_level_name = models.CharField(max_length=250, blank=True)
    skip_approval = models.TextField(blank=True)
    proposal_note = models.TextField(blank=True)
    # The level's governance as signed off.
    owner_name = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=450, blank=True)  # "Dana Lead (CTO)"
    deputy = models.CharField(max_length=450, blank=True)
    approval_rule = models.CharField(max_length=1000, blank=True)
    approvals_required = models.PositiveSmallIntegerField(default=1)
    # Who may decide, by name as the document names them: owner, deputy, approval group.
    deciders = models.JSONField(default=list, blank=True)
    cost_ceiling = models.CharField(max_length=200, blank=True)
    cost_estimate = models.CharField(max_length=200, blank=True)
    timeline = models.CharField(max_length=200, blank=True)
    # The bound the metric is judged against, and the sunset rule of the proposed level.
    bound_text = models.CharField(max_length=300, blank=True)
    bound_value = models.FloatField(null=True, blank=True)
    lower_is_better = models.BooleanField(default=False)
    required_improvement = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True
    )
    sunset_after_days = models.PositiveIntegerField(null=True, blank=True)
    sunset_on = models.DateField(null=True, blank=True)
    baseline_value = models.FloatField(null=True, blank=True)  # the metric at approval
    opened_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(max_length=2000, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationCaseQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["-opened_at", "-id"]
        constraints: ClassVar[list[Any]] = [
            # A fired window adds evidence to the case in play; two intake requests at once
            # must not open two cases for one system and bound.
            models.UniqueConstraint(
                fields=["engagement", "ai_system", "bound_key"],
                condition=Q(kind="bound_breach", status__in=["open", "approved"]),
                name="escalation_case_one_active_per_bound",
            ),
            models.CheckConstraint(
                condition=Q(kind="bound_breach", bound_key__gt="")
                | (~Q(kind="bound_breach") & Q(bound_key="")),
                name="escalation_case_bound_only_for_breaches",
            ),
            models.CheckConstraint(
                condition=Q(required_improvement__isnull=True)
                | Q(required_improvement__gte=0, required_improvement__lte=1),
                name="escalation_case_improvement_is_a_fraction",
            ),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1), name="escalation_case_needs_an_approval"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            # The live page: the cases in play of an engagement.
            models.Index(fields=["engagement", "status"], name="escalation_case_by_status"),
        ]

    def __str__(self) -> str:
        return f"{self.ai_system} {self.bound_key or self.trigger_key}: {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CASE_STATUSES


class CaseEvent(models.Model):
    """One step of a case's timeline (append-only): what happened, who did it, and how a person
    deciding proved who they are (workshops.stepup)."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        EVIDENCE_ADDED = "evidence_added", "Evidence added"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        LEVEL_MOVED = "level_moved", "Level moved"
        SUNSET_VERDICT = "sunset_verdict", "Sunset verdict"
        CLOSED = "closed", "Closed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=300, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    from_level_key = models.CharField(max_length=80, blank=True)
    to_level_key = models.CharField(max_length=80, blank=True)
    authenticated_via = models.CharField(max_length=20, blank=True)
    authenticated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def authenticated_label(self) -> str:
        """How the person deciding proved who they are, as the page says it."""
        return AuthenticatedVia(self.authenticated_via).label if self.authenticated_via else ""


class CaseEvidence(models.Model):
    """A fired window a case rests on, copied as it was evaluated: a re-evaluation replaces the
    window's row, never the evidence the owner decided on."""

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="evidence")
    window = models.ForeignKey(
        WindowResult, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bound_key = models.CharField(max_length=80)
    window_start = models.DateTimeField()
    window_hours = models.PositiveIntegerField()
    value = models.FloatField(null=True, blank=True)
    sample_size = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=WindowOutcome.choices)
    immediate_breach = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["window_start", "id"]
        constraints: ClassVar[list[Any]] = [
            # Re-evaluating a version re-reports its fired windows: each is evidence once.
            models.UniqueConstraint(
                fields=["case", "bound_key", "window_start"], name="case_evidence_one_per_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bound_key} {self.window_start:%Y-%m-%d %H:%M}"

    @property
    def value_shown(self) -> str:
        return four_significant_digits(self.value)


class SystemLevel(models.Model):
    """An AI system's live level on the ladder. Without a row, the system stands where the
    signed-off document puts it; approving or rolling back a case writes the row (its history is
    the cases' level-moved events)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="system_levels"
    )
    ai_system = models.CharField(max_length=80)
    level_key = models.CharField(max_length=80, blank=True)  # blank: below the first rung
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement", "ai_system"], name="system_level_one_per_system"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ai_system}: {self.level_key or 'no level'}"
