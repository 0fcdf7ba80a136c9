"""What the artifacts and the PDF pack need of the engagement, gathered as plain data.

`escalation` renders and signs without knowing people or roles; this module reads them (cover,
decisions log, sign-off) and hands them over as a `PackContext`. The pack page, its task and
`manage.py export_pack` all start here, so every pack of a version says the same thing.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone

from escalation import formatting, frozen
from escalation.document import document_sha256, upgrade_document
from escalation.exports import Stamp
from escalation.models import FrameworkVersion, Pack, PackStatus
from escalation.pdf import ChangesSince, Decision, PackContext, SignOff
from escalation.tasks import generate_pack, request_pack
from workshops.models import (
    Approval,
    Capability,
    DayNote,
    Engagement,
    Review,
)
from workshops.models.evidence import LedgerEntry, SignoffRecord, signoff_payload
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
        # A frozen v1 document keeps its stored bytes and hash; it is read in today's schema.
        if self.version:
            return upgrade_document(self.version.document)
        return self.engagement.draft_document()

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
    def export_capability(self) -> str:
        """One rule for every file of the artifacts (pack, JSON, CSV, iCalendar, SVG, PNG):
        every member may have those of a signed-off version; drafts (the working draft, a
        version not signed off) leave the system only for the people taking part in the
        review, not observers, who read them on the pages."""
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


def approval_evidence(approval: Approval) -> dict[str, Any]:
    """Who approved, as the sign-off record keeps it: name, email and role as stored on the
    approval when it was given (never the live account), and how the approver authenticated."""
    return {
        "approval_id": approval.pk,
        "name": approval.approver_name,
        "email": approval.approver_email,
        "role": approval.get_approver_role_display(),
        "decision": approval.decision,
        "approved_at": approval.created_at.isoformat(),
        "sha256": approval.sha256,
        "authenticated_via": approval.authenticated_via,
        "authenticated_at": (
            approval.authenticated_at.isoformat() if approval.authenticated_at else None
        ),
    }


def _approval_evidence(source: ArtifactSource) -> list[dict[str, Any]]:
    if not source.review:
        return []
    approvals = source.review.approvals.filter(decision=Approval.Decision.APPROVED)
    return [approval_evidence(approval) for approval in approvals]


def _terms(review: Review) -> dict[str, Any]:
    """The review's sign-off terms as recorded at submission: the rule and who had to approve."""
    return {
        "rule": review.signoff_rule,
        "required_approvers": [
            {"name": r.name, "email": r.email, "role": r.get_role_display()}
            for r in review.required_approvers()
        ],
    }


def _approvals(engagement: Engagement, evidence: list[dict[str, Any]]) -> list[SignOff]:
    return [
        SignOff(
            approver=approval["name"],
            role=approval["role"],
            approved_at=_local(
                engagement, datetime.datetime.fromisoformat(approval["approved_at"])
            ),
            sha256=approval["sha256"],
            email=approval["email"],
            authenticated=approval["authenticated_via"],
        )
        for approval in evidence
    ]


def pack_context(source: ArtifactSource) -> PackContext:
    """What the pack prints besides the document. For a signed-off version: exactly what its
    sign-off record froze, whatever changed since."""
    record = signoff_record(source)
    if record is not None:
        entry = LedgerEntry.objects.get(
            engagement=source.engagement, kind=LedgerEntry.Kind.SIGNOFF, object_id=record.pk
        )
        context = PackContext.from_json(
            {
                **record.content["pack"],
                "record_sha256": record.sha256,
                "ledger_head": entry.entry_hash,
            }
        )
    else:
        context = _live_pack_context(source)
    return dataclasses.replace(context, changes_since=changes_since(source))


def _previous_signoff(engagement: Engagement, version: FrameworkVersion) -> Review | None:
    """The review of the latest version signed off before `version`."""
    return (
        Review.objects.signed_off()
        .filter(engagement=engagement, version__number__lt=version.number)
        .select_related("version")
        .defer("version__document")
        .order_by("-version__number")
        .first()
    )


def changes_since(source: ArtifactSource) -> ChangesSince | None:
    """What changed in this version since the latest version signed off before it; None for the
    working draft and before the first sign-off. A signed-off version's comes from frozen data
    only: its sign-off record names that earlier version and its hash, and both documents are
    frozen. A record written before records named it gives none, as its pack never had one."""
    if source.version is None:
        return None
    if source.signed_off:
        record = signoff_record(source)
        previous = record.content.get("previous_signoff") if record else None
        if previous is None:
            return None
        before = FrameworkVersion.objects.defer("document").get(
            framework=source.engagement.framework,
            number=previous["number"],
            sha256=previous["sha256"],
        )
    else:
        review = _previous_signoff(source.engagement, source.version)
        if review is None:
            return None
        before = review.version
    # Diffed once per pair of hashes (escalation.frozen): documents are read only on a miss.
    return ChangesSince(before.label, before.sha256, frozen.diff(before, source.version))


def _live_pack_context(source: ArtifactSource, generated_at: Any = None) -> PackContext:
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
        generated_at=_local(engagement, generated_at or timezone.now()),
        dates=dates,
        decisions=_decisions(source),
        approvals=_approvals(engagement, _approval_evidence(source)),
        holidays=[day.isoformat() for day in engagement.holidays],
    )


def signoff_record(source: ArtifactSource) -> SignoffRecord | None:
    if not source.signed_off:
        return None
    return SignoffRecord.objects.filter(review=source.review).first()


def record_signoff(review: Review, *, backfill: bool = False) -> SignoffRecord:
    """Freeze what the signed pack will print, once, as the review is signed off (called inside
    the sign-off's transaction), and chain it into the engagement's register.

    `backfill`: for a sign-off made before the register existed (workshops.ledger
    .backfill_register). The record says it was written later, and prints what the signed pack
    handed out then printed, when one was stored, else the engagement as it is now."""
    # Read back, not the caller's instance: the record holds what is stored, never unsaved edits.
    engagement, version = Engagement.objects.get(pk=review.engagement_id), review.version
    source = ArtifactSource(engagement, version, review)
    pack = _live_pack_context(source, generated_at=review.signed_off_at).to_json()
    if backfill and (handed_out := _first_signed_pack(version)) is not None:
        pack = {key: value for key, value in handed_out.context.items() if key != "changes_since"}
    # Held to the end of the transaction: the head named in the record stays the head until
    # the record's own entry follows it.
    LedgerEntry.objects.lock(engagement)
    head = LedgerEntry.objects.head(engagement)
    previous = _previous_signoff(engagement, version)
    content = {
        "schema": 1,
        "engagement": {
            "slug": engagement.slug,
            "title": engagement.title,
            "client": engagement.client_organisation,
        },
        "version": {"number": version.number, "sha256": version.sha256},
        "signed_off_at": review.signed_off_at.isoformat() if review.signed_off_at else None,
        "terms": _terms(review),
        "approvals": _approval_evidence(source),
        "pack": pack,
        "ledger_previous_hash": head.entry_hash if head else None,
        # The version the pack's "Changes since" section compares with (None for the first).
        "previous_signoff": (
            {"number": previous.version.number, "sha256": previous.version.sha256}
            if previous
            else None
        ),
    }
    if backfill:
        content["backfilled_at"] = timezone.now().isoformat()
    content = json.loads(json.dumps(content))  # exactly what the jsonb column gives back
    record = SignoffRecord.objects.create(
        review=review,
        engagement=engagement,
        content=content,
        sha256=SignoffRecord.hash_content(content),
    )
    LedgerEntry.objects.append(
        engagement, LedgerEntry.Kind.SIGNOFF, record.pk, signoff_payload(record)
    )
    return record


def _first_signed_pack(version: FrameworkVersion) -> Pack | None:
    return (
        Pack.objects.filter(version=version, signed=True, status=PackStatus.READY)
        .defer("pdf")
        .order_by("created_at", "id")
        .first()
    )


def monitoring_stamp(source: ArtifactSource) -> Stamp:
    """What the monitoring files of a signed-off version are stamped with: the engagement as its
    sign-off record froze it (so renaming the engagement later never changes a file), the
    version and its hash."""
    assert source.version is not None and source.signed_off, "only a signed-off version exports"
    record = signoff_record(source)
    engagement = (
        record.content["engagement"]
        if record is not None
        else {
            "slug": source.engagement.slug,
            "title": source.engagement.title,
            "client": source.engagement.client_organisation,
        }
    )
    return Stamp(
        engagement=f"{engagement['client']}: {engagement['title']} ({engagement['slug']})",
        version=source.version.number,
        sha256=source.version.sha256,
    )


def monitoring_cache_kind(stamp: Stamp, filename: str) -> str:
    """The frozen-cache kind (and ETag part) of one monitoring file: the document's hash names
    its content; the stamp's engagement and version number are hashed in too (two versions, or
    two engagements, may freeze the same document)."""
    stamped = hashlib.sha256(f"{stamp.engagement}\nv{stamp.version}".encode()).hexdigest()[:16]
    return f"monitoring-{stamped}-{filename}"


def signed_pack(source: ArtifactSource) -> Pack:
    """The one stored signed pack of a signed-off version, generated here if no worker has made it
    yet. Every later request returns the same row, so the same bytes."""
    pack = request_pack(
        source.engagement.framework, source.version, source.document, pack_context(source)
    )
    if pack.status == PackStatus.QUEUED:
        generate_pack.call(pack.pk)
    return Pack.objects.get(pk=pack.pk)
