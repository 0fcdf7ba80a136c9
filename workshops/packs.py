"""What the artifacts and the PDF pack need of the engagement, gathered as plain data.

`escalation` renders and signs without knowing people or roles; this module reads them (cover,
decisions log, sign-off) and hands them over as a `PackContext`. The pack page, its task and
`manage.py export_pack` all start here, so every pack of a version says the same thing.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone

from escalation import formatting
from escalation.document import build_document, document_sha256
from escalation.models import FrameworkVersion
from escalation.pdf import Decision, PackContext, SignOff
from workshops.models import (
    Approval,
    Capability,
    DayNote,
    Engagement,
    Membership,
    Review,
    Role,
)
from workshops.people import display_name


@dataclass
class ArtifactSource:
    """The document the artifacts render from: a frozen version's, or the working draft's."""

    engagement: Engagement
    version: FrameworkVersion | None
    review: Review | None

    @cached_property
    def document(self) -> dict[str, Any]:
        # Read on first use: the pack page's polling needs the state, not the content.
        return self.version.document if self.version else build_document(self.engagement.framework)

    @property
    def is_draft(self) -> bool:
        return self.version is None

    @property
    def signed_off(self) -> bool:
        return bool(self.review and self.review.signed_off_at)

    @property
    def label(self) -> str:
        return self.version.label if self.version else "Working draft"

    @property
    def file_stem(self) -> str:
        return f"{self.engagement.slug}-{self.version.label if self.version else 'draft'}"

    @property
    def sha256(self) -> str:
        return self.version.sha256 if self.version else document_sha256(self.document)

    @property
    def status(self) -> str:
        if self.version is None:
            return "Working draft (not frozen)"
        if self.signed_off:
            return "Signed off"
        return self.review.get_state_display() if self.review else "Frozen, not yet in review"

    @property
    def pack_capability(self) -> str:
        """Every member may have the signed-off pack; drafts leave the system only for the
        people taking part in the review (not observers)."""
        return Capability.VIEW if self.signed_off else Capability.COMMENT


def artifact_source(engagement: Engagement, number: int | None) -> ArtifactSource:
    """Version `number` of the engagement's framework (404 if none), or the draft for None."""
    if number is None:
        return ArtifactSource(engagement, None, None)
    # The document is read on first use: cached renderings of a version need only its hash.
    versions = FrameworkVersion.objects.defer("document")
    version = get_object_or_404(versions, framework=engagement.framework, number=number)
    review = Review.objects.filter(version=version).first()
    return ArtifactSource(engagement, version, review)


def _local(engagement: Engagement, moment: Any) -> str:
    zone = zoneinfo.ZoneInfo(engagement.timezone)
    return formatting.moment(timezone.localtime(moment, zone))


def _person(user: Any) -> str:
    return display_name(user, absent="Someone no longer here")


def _decisions(source: ArtifactSource) -> list[Decision]:
    engagement = source.engagement
    decisions = [
        Decision(date=f"Day {note.day_number}", author="Workshop", text=note.decisions)
        for note in DayNote.objects.filter(engagement=engagement).exclude(decisions="")
    ]
    if source.review:
        decisions += [
            Decision(
                date=_local(engagement, event.created_at),
                author=_person(event.actor),
                text=f"{event.get_to_state_display()}"
                + (f": {event.reason}" if event.reason else ""),
            )
            for event in source.review.events.select_related("actor")
        ]
    return decisions


def _approvals(source: ArtifactSource) -> list[SignOff]:
    if not source.review:
        return []
    approvals = list(
        source.review.approvals.filter(decision=Approval.Decision.APPROVED).select_related(
            "approver"
        )
    )
    roles = dict(
        Membership.objects.filter(
            engagement=source.engagement, user__in=[a.approver_id for a in approvals]
        ).values_list("user_id", "role")
    )
    return [
        SignOff(
            approver=_person(approval.approver),
            role=str(Role(roles[approval.approver_id]).label)
            if approval.approver_id in roles
            else "Former member",
            approved_at=_local(source.engagement, approval.created_at),
            sha256=approval.sha256,
        )
        for approval in approvals
    ]


def pack_context(source: ArtifactSource) -> PackContext:
    engagement = source.engagement
    dates = [("Engagement start", formatting.date(engagement.start_date))]
    if source.version:
        dates.append(("Version frozen", _local(engagement, source.version.created_at)))
    if source.review and source.review.submitted_at:
        dates.append(("Submitted for review", _local(engagement, source.review.submitted_at)))
    if source.review and source.review.signed_off_at:
        dates.append(("Signed off", _local(engagement, source.review.signed_off_at)))
    return PackContext(
        client=engagement.client_organisation,
        engagement=engagement.title,
        version_label=source.label,
        status=source.status,
        signed_off=source.signed_off,
        version_sha256=source.sha256,
        generated_at=_local(engagement, timezone.now()),
        dates=dates,
        decisions=_decisions(source),
        approvals=_approvals(source),
    )
