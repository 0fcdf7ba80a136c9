"""Verifying an engagement's evidence register: the hash chain, every frozen version's document,
every sign-off record and every stored signed pack. `manage.py verify_register` reports what this
finds; the first problem names the first broken entry. And bringing into the register what was
frozen, approved and signed off before it existed (`manage.py backfill_register`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from pypdf import PdfReader

from escalation.document import document_sha256
from escalation.models import FrameworkVersion, Pack, PackStatus
from escalation.signing import signature_problem
from workshops.models import Approval, Engagement, Review
from workshops.models.evidence import (
    GENESIS_HASH,
    LedgerEntry,
    SignoffRecord,
    approval_payload,
    entry_hash,
    signoff_payload,
    version_payload,
)
from workshops.packs import record_signoff


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, and the problem ("" when it holds)."""

    subject: str
    detail: str
    problem: str = ""


def _recorded_row_payload(entry: LedgerEntry) -> dict[str, object] | None:
    """The payload recomputed from the row the entry records, or None if the row is gone."""
    if entry.kind == LedgerEntry.Kind.VERSION:
        version = FrameworkVersion.objects.filter(
            pk=entry.object_id, framework__engagement=entry.engagement
        ).first()
        return version_payload(version) if version else None
    if entry.kind == LedgerEntry.Kind.APPROVAL:
        approval = (
            Approval.objects.select_related("review__version")
            .filter(pk=entry.object_id, review__engagement=entry.engagement)
            .first()
        )
        return approval_payload(approval) if approval else None
    record = SignoffRecord.objects.filter(pk=entry.object_id, engagement=entry.engagement).first()
    return signoff_payload(record) if record else None


def check_chain(engagement: Engagement) -> Iterator[Finding]:
    previous, expected_sequence = GENESIS_HASH, 1
    recorded: set[tuple[str, int]] = set()
    for entry in LedgerEntry.objects.filter(engagement=engagement).order_by("sequence"):
        recorded.add((entry.kind, entry.object_id))
        problem = ""
        if entry.sequence != expected_sequence:
            problem = f"expected entry {expected_sequence} here: an entry is missing"
        elif entry.previous_hash != previous:
            problem = "does not follow the entry before it (removed, reordered or rewritten)"
        elif entry.entry_hash != entry_hash(
            entry.previous_hash, entry.sequence, entry.kind, entry.object_id, entry.payload
        ):
            problem = "its content no longer matches its hash (the entry was rewritten)"
        else:
            row = _recorded_row_payload(entry)
            if row is None:
                problem = f"the {entry.get_kind_display().lower()} it records was deleted"
            elif row != entry.payload:
                problem = f"the {entry.get_kind_display().lower()} it records was changed"
        yield Finding(entry.label, entry.entry_hash, problem)
        previous, expected_sequence = entry.entry_hash, entry.sequence + 1
    yield from _unrecorded(engagement, recorded)


def _unrecorded(engagement: Engagement, recorded: set[tuple[str, int]]) -> Iterator[Finding]:
    """Rows of evidence that no entry vouches for: inserted behind the application's back."""
    rows = [
        (LedgerEntry.Kind.VERSION, pk, f"v{number}")
        for pk, number in FrameworkVersion.objects.filter(
            framework__engagement=engagement
        ).values_list("pk", "number")
    ]
    rows += [
        (LedgerEntry.Kind.APPROVAL, pk, f"approval {pk}")
        for pk in Approval.objects.filter(review__engagement=engagement).values_list(
            "pk", flat=True
        )
    ]
    rows += [
        (LedgerEntry.Kind.SIGNOFF, pk, f"sign-off record {pk}")
        for pk in SignoffRecord.objects.filter(engagement=engagement).values_list("pk", flat=True)
    ]
    for kind, pk, name in rows:
        if (kind, pk) not in recorded:
            yield Finding(
                name,
                "",
                "is not in the register's ledger (made before the register existed? "
                "`manage.py backfill_register` adds it)",
            )


def check_versions(engagement: Engagement) -> Iterator[Finding]:
    for version in FrameworkVersion.objects.filter(framework__engagement=engagement).order_by(
        "number"
    ):
        recomputed = document_sha256(version.document)
        problem = "" if recomputed == version.sha256 else f"its document hashes to {recomputed}"
        yield Finding(version.label, version.sha256, problem)


def check_records(engagement: Engagement) -> Iterator[Finding]:
    for record in SignoffRecord.objects.filter(engagement=engagement).select_related(
        "review__version"
    ):
        version = record.review.version
        name = f"sign-off record of {version.label}"
        problem = ""
        if SignoffRecord.hash_content(record.content) != record.sha256:
            problem = "its content no longer matches its hash"
        elif record.content["version"]["sha256"] != version.sha256:
            problem = "it names another document hash than the version's"
        yield Finding(name, record.sha256, problem)
    unrecorded = Review.objects.signed_off().filter(engagement=engagement, signoff_record=None)
    for review in unrecorded.select_related("version"):
        yield Finding(
            f"sign-off of {review.version.label}",
            "",
            "signed off, but its sign-off record is gone (or was never written: a sign-off from "
            "before the register is added by `manage.py backfill_register`)",
        )


def check_packs(engagement: Engagement) -> Iterator[Finding]:
    """Each stored signed pack: its signature holds, and the hashes it prints are the ledger's."""
    entries = {
        entry.payload["record_sha256"]: entry.entry_hash
        for entry in LedgerEntry.objects.filter(
            engagement=engagement, kind=LedgerEntry.Kind.SIGNOFF
        )
    }
    records = {
        record.review.version_id: record
        for record in SignoffRecord.objects.filter(engagement=engagement).select_related("review")
    }
    packs = Pack.objects.filter(
        framework__engagement=engagement, signed=True, status=PackStatus.READY
    ).select_related("version")
    for pack in packs:
        assert pack.pdf is not None  # a ready pack has its PDF (constraint pack_ready_has_pdf)
        pdf = bytes(pack.pdf)
        name = f"signed pack of {pack.version.label if pack.version else 'draft'}"
        record = records.get(pack.version_id or 0)
        # A pack handed out before the register existed cannot print the record written for it
        # later: its signature and the version's hash are what it proves.
        before_record = bool(
            record and record.content.get("backfilled_at") and pack.created_at < record.created_at
        )
        yield Finding(
            name + (" (made before the register)" if before_record else ""),
            pack.public_id.hex,
            pack_problem(pdf, record, entries, version_hash_only=before_record),
        )


def pack_problem(
    pdf: bytes,
    record: SignoffRecord | None,
    ledger_heads: dict[str, str],
    version_hash_only: bool = False,
) -> str:
    if problem := signature_problem(pdf):
        return problem
    if record is None:
        return "no sign-off record stands behind it"
    text = _squeezed_text(pdf)
    printed = {"the version's SHA-256": record.content["version"]["sha256"]}
    if not version_hash_only:
        printed |= {
            "the sign-off record's SHA-256": record.sha256,
            "the ledger head": ledger_heads.get(record.sha256, "(no ledger entry)"),
        }
    for what, value in printed.items():
        if value not in text:
            return f"it does not print {what} {value}"
    return ""


def _squeezed_text(pdf: bytes) -> str:
    """The PDF's text without whitespace: a hash wrapped over two lines reads as one word."""
    return "".join(
        "".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def check_kept_pack(engagement: Engagement, pdf: bytes) -> Iterator[Finding]:
    """A signed pack someone kept (the client's copy): it must be signed by us and name a sign-off
    record and ledger head this register still holds. Catches a register rebuilt or cut back
    since, which the database alone cannot show."""
    text = _squeezed_text(pdf) if not signature_problem(pdf) else ""
    records = list(SignoffRecord.objects.filter(engagement=engagement))
    record = next((r for r in records if r.sha256 in text), None)
    before_record = False
    if record is None:
        # A pack handed out before the register existed prints no record: the record backfilled
        # for its version stands behind it, and the version's hash is what it proves.
        backfilled = [r for r in records if r.content.get("backfilled_at")]
        record = next((r for r in backfilled if r.content["version"]["sha256"] in text), None)
        before_record = record is not None
    heads = {
        entry.payload["record_sha256"]: entry.entry_hash
        for entry in LedgerEntry.objects.filter(
            engagement=engagement, kind=LedgerEntry.Kind.SIGNOFF
        )
    }
    problem = pack_problem(pdf, record, heads, version_hash_only=before_record)
    if problem == "no sign-off record stands behind it":
        problem = "the sign-off record it names is not in this register"
    name = "the given pack" + (" (made before the register)" if before_record else "")
    yield Finding(name, hashlib.sha256(pdf).hexdigest(), problem)


def verify_register(
    engagement: Engagement, kept_pack: bytes | None = None
) -> Iterator[tuple[str, Finding]]:
    """Every check of the register, grouped: ("ledger" | "version" | "sign-off" | "pack", finding),
    and of a kept signed pack when one is given."""
    for group, findings in (
        ("ledger", check_chain(engagement)),
        ("version", check_versions(engagement)),
        ("sign-off", check_records(engagement)),
        ("pack", check_packs(engagement)),
        ("kept pack", check_kept_pack(engagement, kept_pack) if kept_pack else iter(())),
    ):
        for finding in findings:
            yield group, finding


# Backfilling: a register that began after the engagement did.


def backfill_register(engagement: Engagement) -> list[str]:
    """Chain into the engagement's register what it does not hold yet: the versions frozen and
    approvals given before the register existed (migration 0008 created it empty), and a
    sign-off record for each version signed off before then. Appended after whatever the register
    holds, version by version (the version, its approvals, its sign-off), so the chain stays
    whole; running it again adds nothing. Returns what was added, in words."""
    added = []
    with transaction.atomic():  # all of it or none: a half-backfilled register is not whole
        LedgerEntry.objects.lock(engagement)
        recorded = set(
            LedgerEntry.objects.filter(engagement=engagement).values_list("kind", "object_id")
        )
        versions = FrameworkVersion.objects.filter(framework__engagement=engagement)
        for version in versions.order_by("number"):
            if (LedgerEntry.Kind.VERSION, version.pk) not in recorded:
                LedgerEntry.objects.append(
                    engagement, LedgerEntry.Kind.VERSION, version.pk, version_payload(version)
                )
                added.append(f"{version.label}: frozen version")
            review = Review.objects.filter(version=version).first()
            if review is None:
                continue
            approvals = review.approvals.select_related("review__version")
            for approval in approvals.order_by("created_at", "pk"):
                if (LedgerEntry.Kind.APPROVAL, approval.pk) not in recorded:
                    LedgerEntry.objects.append(
                        engagement,
                        LedgerEntry.Kind.APPROVAL,
                        approval.pk,
                        approval_payload(approval),
                    )
                    added.append(f"{version.label}: approval {approval.pk}")
            if review.signed_off_at and not SignoffRecord.objects.filter(review=review).exists():
                record = record_signoff(review, backfill=True)
                added.append(f"{version.label}: sign-off record {record.pk}")
    return added
