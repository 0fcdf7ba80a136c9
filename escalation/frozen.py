"""What is rendered from a frozen framework document, computed once and kept in Django's cache
(config/settings.py CACHES) under the documents' SHA-256: a hash names one content, so an entry
never goes stale and needs no invalidation. A working draft's renderings are kept under its
document's hash the same way (escalation.document.draft_sha256)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from escalation.caching import for_hashes
from escalation.diff import SectionChanges, diff_documents
from escalation.presentation import (
    ReadableItem,
    ReadableSection,
    item_anchors,
    readable_sections,
)


def diff(before: Any, after: Any) -> list[SectionChanges]:
    """`diff_documents` of two frozen versions (anything with `.sha256` and `.document`; the
    document is read only when the diff is not cached yet)."""
    return for_hashes(
        "diff",
        (before.sha256, after.sha256),
        lambda: diff_documents(before.document, after.document),
    )


def sections(version: Any) -> list[ReadableSection]:
    """`readable_sections` of a frozen version: what its page prints, item by item."""
    return for_hashes(
        "readable-sections", (version.sha256,), lambda: readable_sections(version.document)
    )


def item_titles(version: Any) -> dict[str, str]:
    """`item_anchors` of a frozen version: every item a comment may name, anchor → title."""
    return for_hashes("item-anchors", (version.sha256,), lambda: item_anchors(version.document))


@dataclass(frozen=True)
class OutlineSection:
    """A section of a version without its items' fields: what the contents and the paging of a
    version page need (a few bytes per item, where the items themselves are megabytes)."""

    key: str
    title: str
    items: list[tuple[str, bool]]  # each item's anchor, and whether it shows first here


def outline(version: Any) -> list[OutlineSection]:
    return for_hashes(
        "readable-outline",
        (version.sha256,),
        lambda: [
            OutlineSection(
                section.key,
                section.title,
                [(item.anchor, item.first_showing) for item in section.items],
            )
            for section in sections(version)
        ],
    )


@dataclass(frozen=True)
class ItemFields:
    """An item on a version page, its fields' table rows already printed (they never change)
    in place of the fields themselves."""

    item: ReadableItem
    fields_html: SafeString


def _fields_html(item: ReadableItem) -> SafeString:
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        ((field.label, linebreaksbr(field.value, autoescape=True)) for field in item.fields),
    )


def _page_of_sections(
    readable: list[ReadableSection], number: int, size: int
) -> list[tuple[ReadableSection, list[ReadableItem]]]:
    total = sum(len(section.items) for section in readable)
    low, high = (number - 1) * size, number * size
    last_page = number == max(1, -(-total // size))
    shown, start = [], 0
    for section in readable:
        end = start + len(section.items)
        if section.items and start < high and end > low:
            shown.append((section, section.items[max(0, low - start) : high - start]))
        elif not section.items and (low <= start < high or (last_page and start >= low)):
            shown.append((section, []))
        start = end
    return shown


@dataclass(frozen=True)
class SectionHeading:
    key: str
    title: str


@dataclass(frozen=True)
class VersionPage:
    """What page `number` of a version prints of its frozen framework, in one cache entry: the
    document's name, the outline (contents and paging), and that page's sections with their
    items, each item without its fields' values but with their printed rows. The document
    (megabytes at ten times the largest engagement) is read only on a miss."""

    name: Any
    outline: list[OutlineSection]
    sections: list[tuple[SectionHeading, list[ItemFields]]]


def version_page(version: Any, number: int, size: int) -> VersionPage:
    def compute() -> VersionPage:
        return VersionPage(
            version.document.get("name", ""),
            outline(version),
            [
                (
                    SectionHeading(section.key, section.title),
                    [ItemFields(replace(item, fields=[]), _fields_html(item)) for item in items],
                )
                for section, items in _page_of_sections(sections(version), number, size)
            ],
        )

    return for_hashes(f"version-page-{size}-{number}", (version.sha256,), compute)
