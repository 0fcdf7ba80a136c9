"""What is made from a framework: its frozen versions, drawn ladders and generated packs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from escalation.models.framework import Framework


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
        return version_label(self.number)


def version_label(number: int) -> str:
    """How a version is named on every page (for lists that read its number alone)."""
    return f"v{number}"


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


def pack_stalled_after() -> timedelta:
    """How long a pack may wait or run before it counts as stalled: never less than a live run may
    take (its time limit, PACK_TIME_LIMIT_SECONDS) plus a minute, so a slow but healthy run is
    never queued a second time beside itself."""
    return max(PACK_STALLED_AFTER, timedelta(seconds=settings.PACK_TIME_LIMIT_SECONDS + 60))


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class PackQuerySet(models.QuerySet["Pack"]):
    def of(self, framework: Framework, version: FrameworkVersion | None) -> PackQuerySet:
        """The packs of one version, or of the working draft when `version` is None."""
        return self.filter(framework=framework, version=version)

    def superseded_drafts(self) -> PackQuerySet:
        """Finished unsigned packs (watermarked DRAFT) with a newer ready unsigned pack of the same
        version, or of the same working draft: the pack page never offers them again. Signed
        packs are never among them (the database refuses to delete one anyway)."""
        same_version = Coalesce("version", Value(0)), Coalesce(OuterRef("version"), Value(0))
        newer_ready = (
            Pack.objects.filter(
                framework=OuterRef("framework"), signed=False, status=PackStatus.READY
            )
            .alias(same_version=same_version[0])
            .filter(same_version=same_version[1])
            .filter(
                Q(created_at__gt=OuterRef("created_at"))
                | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
            )
        )
        return self.filter(signed=False, status__in=[PackStatus.READY, PackStatus.FAILED]).filter(
            Exists(newer_ready)
        )


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
        return timezone.now() - (self.started_at or self.created_at) > pack_stalled_after()

    @property
    def filename(self) -> str:
        label = self.version.label if self.version else "draft"
        suffix = "-signed" if self.signed else ""
        return f"{slugify(self.framework.name) or 'framework'}-{label}{suffix}.pdf"
