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
            .select_related("engagement")
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
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="+")
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
        """The window's value to four significant digits (0.9855, 1234, 0.9)."""
        return "–" if self.value is None else f"{self.value:.4g}"
