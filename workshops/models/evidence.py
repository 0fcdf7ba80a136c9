"""The engagement's evidence register: a hash chain over its frozen versions, approvals and
sign-off records (`LedgerEntry`), and the sign-off record itself (`SignoffRecord`).

Both tables are append-only in the database (triggers in migration 0009 refuse UPDATE, DELETE and
TRUNCATE). Each entry hashes the one before it, so removing, reordering or rewriting any entry,
even together with the hash stored beside it, breaks every later link; `manage.py verify_register`
walks the chain (workshops.ledger).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone as django_timezone

from escalation.document import canonical_bytes
from workshops.models.engagements import Engagement

GENESIS_HASH = "0" * 64


def entry_hash(
    previous_hash: str, sequence: int, kind: str, object_id: int, payload: dict[str, Any]
) -> str:
    """The hash that chains an entry to the one before it: over the previous hash, the entry's
    place, what it is and its content."""
    return hashlib.sha256(
        canonical_bytes(
            {
                "previous_hash": previous_hash,
                "sequence": sequence,
                "kind": kind,
                "object_id": object_id,
                "payload": payload,
            }
        )
    ).hexdigest()


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def head(self, engagement: Engagement) -> LedgerEntry | None:
        return self.filter(engagement=engagement).order_by("-sequence").first()

    def lock(self, engagement: Engagement) -> None:
        """Hold the engagement's ledger until the transaction ends. Two entries appended at once
        would both chain to the same head (the loser would hit ledger_sequence_unique): a
        transaction-scoped advisory lock serializes appends without locking the engagement row
        that pages update."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"ledger:{engagement.pk}"]
            )

    def append(
        self, engagement: Engagement, kind: str, object_id: int, payload: dict[str, Any]
    ) -> LedgerEntry:
        """Add an entry after the engagement's current head. Call inside the transaction that
        writes the row it records, so the row never exists without its entry."""
        self.lock(engagement)
        head = self.head(engagement)
        sequence = head.sequence + 1 if head else 1
        previous = head.entry_hash if head else GENESIS_HASH
        return self.create(
            engagement=engagement,
            sequence=sequence,
            kind=kind,
            object_id=object_id,
            payload=payload,
            previous_hash=previous,
            entry_hash=entry_hash(previous, sequence, kind, object_id, payload),
        )


class LedgerEntry(models.Model):
    """One link of an engagement's hash chain: a frozen version, an approval or a sign-off."""

    class Kind(models.TextChoices):
        VERSION = "version", "Frozen version"
        APPROVAL = "approval", "Approval"
        SIGNOFF = "signoff", "Sign-off record"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="ledger")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The recorded row's id, deliberately not a foreign key: an entry outlives a row deleted
    # behind the application's back, so verification can name what is missing.
    object_id = models.PositiveBigIntegerField()
    # What the entry vouches for (hashes, numbers, ids, times): recomputed from the row to verify.
    payload = models.JSONField()
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=django_timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["engagement", "sequence"]
        verbose_name_plural = "ledger entries"
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement", "sequence"], name="ledger_sequence_unique"
            ),
            models.UniqueConstraint(
                fields=["engagement", "kind", "object_id"], name="ledger_one_entry_per_row"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="ledger_sequence_from_1"),
            models.CheckConstraint(
                condition=Q(previous_hash__regex=r"^[0-9a-f]{64}$")
                & Q(entry_hash__regex=r"^[0-9a-f]{64}$"),
                name="ledger_hashes_are_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_kind_display()} {self.entry_hash[:12]}"

    @property
    def label(self) -> str:
        """How verification names the entry: "entry 3 (approval 17 of v1)"."""
        version = self.payload.get("version")
        of = f" of v{version}" if version is not None else ""
        return f"entry {self.sequence} ({self.get_kind_display().lower()} {self.object_id}{of})"


class SignoffRecord(models.Model):
    """Everything a signed-off version's pack says, frozen once at the moment of sign-off.

    `content` holds the version's hash, every approval as recorded at approval time, the
    engagement's title and client, the decisions log and every other text the pack prints; its
    canonical JSON (sorted keys, no whitespace, as for versions) hashes to `sha256`. The signed
    pack is rendered from this record and the frozen version only, so nothing edited after
    sign-off can reach it.
    """

    # CASCADE only in name: the database refuses deleting a record (migration 0009), so a cascade
    # from its review or engagement fails there, with the reason.
    review = models.OneToOneField(
        "workshops.Review", on_delete=models.CASCADE, related_name="signoff_record"
    )
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="signoff_records"
    )
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="signoff_record_sha256_is_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"sign-off of v{self.content.get('version', {}).get('number')}"

    @staticmethod
    def hash_content(content: dict[str, Any]) -> str:
        return hashlib.sha256(canonical_bytes(content)).hexdigest()


# What each kind of entry vouches for, taken only from columns that never change after insert
# (an approval stores its approver's name, email and role as they were: a renamed account does
# not touch them, so they are chained too).


def version_payload(version: Any) -> dict[str, Any]:
    return {
        "version": version.number,
        "sha256": version.sha256,
        "frozen_at": version.created_at.isoformat(),
    }


def approval_payload(approval: Any) -> dict[str, Any]:
    return {
        "version": approval.review.version.number,
        "approver_id": approval.approver_id,
        "approver_name": approval.approver_name,
        "approver_email": approval.approver_email,
        "approver_role": approval.approver_role,
        "decision": approval.decision,
        "reason": approval.reason,
        "sha256": approval.sha256,
        "created_at": approval.created_at.isoformat(),
        "authenticated_via": approval.authenticated_via,
        "authenticated_at": (
            approval.authenticated_at.isoformat() if approval.authenticated_at else None
        ),
    }


def signoff_payload(record: SignoffRecord) -> dict[str, Any]:
    return {"version": record.content["version"]["number"], "record_sha256": record.sha256}
