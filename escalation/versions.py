"""Freezing the working draft into a numbered, immutable version (v1, v2, ...)."""

from __future__ import annotations

from django.db import transaction

from escalation.document import build_document, document_sha256
from escalation.models import Framework, FrameworkVersion
from escalation.text import shortened


class NothingToFreezeError(Exception):
    """The working draft is exactly the latest version: a new version would only repeat it."""

    def __init__(self, latest: FrameworkVersion) -> None:
        super().__init__(
            f"Nothing changed since {latest.label}: there is no new version to freeze."
        )
        self.latest = latest


AUTHOR_NAME_LENGTH = FrameworkVersion._meta.get_field("created_by_name").max_length or 150


def freeze_version(framework: Framework, summary: str, author_name: str) -> FrameworkVersion:
    """Snapshot the framework's document as its next version.

    Two facilitators freezing at once must not both take number N+1 (the unique constraint would
    turn the loser's click into a server error), so the framework row is locked first: the second
    freeze waits, then sees the first one's version and numbers after it.
    """
    with transaction.atomic():
        locked = Framework.objects.select_for_update().get(pk=framework.pk)
        document = build_document(locked)
        sha256 = document_sha256(document)
        latest = locked.versions.order_by("-number").first()
        if latest is not None and latest.sha256 == sha256:
            raise NothingToFreezeError(latest)
        return FrameworkVersion.objects.create(
            framework=locked,
            number=latest.number + 1 if latest else 1,
            document=document,
            sha256=sha256,
            summary=summary.strip(),
            created_by_name=shortened(author_name, AUTHOR_NAME_LENGTH),
        )


def stored_hash_matches(version: FrameworkVersion) -> bool:
    """Whether the version's stored document still hashes to the hash frozen with it."""
    return document_sha256(version.document) == version.sha256
