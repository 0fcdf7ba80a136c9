"""What is rendered from a frozen framework document, computed once and kept in Django's cache
(config/settings.py CACHES) under the documents' SHA-256: a hash names one content, so an entry
never goes stale and needs no invalidation. A working draft's renderings are kept under its
document's hash the same way (escalation.document.draft_sha256)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache

from escalation.diff import SectionChanges, diff_documents
from escalation.presentation import ReadableSection, readable_sections


def cached[T](kind: str, sha256s: Sequence[str], compute: Callable[[], T]) -> T:
    """`compute()` once per `kind` of rendering and documents; kept until the cache culls it."""
    key = f"frozen:{kind}:{':'.join(sha256s)}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=None)
    return value


def diff(before: Any, after: Any) -> list[SectionChanges]:
    """`diff_documents` of two frozen versions (anything with `.sha256` and `.document`; the
    document is read only when the diff is not cached yet)."""
    return cached(
        "diff",
        (before.sha256, after.sha256),
        lambda: diff_documents(before.document, after.document),
    )


def sections(version: Any) -> list[ReadableSection]:
    """`readable_sections` of a frozen version: what its page prints, item by item."""
    return cached(
        "readable-sections", (version.sha256,), lambda: readable_sections(version.document)
    )
