"""What changed between two framework documents, written for a stakeholder.

Pure functions: items are matched by key within each step (so a renamed level is a change of its
name, not a removal and an addition), and every field reads with its human name and its value as
the version page shows it (level names instead of keys, choice labels instead of codes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from escalation.document import upgrade_document
from escalation.formatting import EMPTY, is_empty
from escalation.presentation import (
    FIELD_LABELS,
    SECTIONS,
    DocumentTexts,
    items_of,
    section_title,
)


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ItemChange:
    anchor: str
    title: str
    change: Change
    fields: list[FieldChange]

    @property
    def element_id(self) -> str:
        return "item-" + self.anchor.replace("/", "-")


@dataclass(frozen=True)
class SectionChanges:
    key: str
    title: str
    items: list[ItemChange]


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[SectionChanges]:
    """The sections with at least one added, removed or changed item, in reading order.
    Either side may be a frozen v1 document: both are read in the current schema."""
    old, new = upgrade_document(old), upgrade_document(new)
    old_texts, new_texts = DocumentTexts(old), DocumentTexts(new)
    sections = []
    for key, title, parts in SECTIONS:
        changes: list[ItemChange] = []
        for part in parts:
            before = {item["key"]: item for item in items_of(old, part.collection)}
            after = {item["key"]: item for item in items_of(new, part.collection)}
            for item_key, new_item in after.items():
                old_item = before.get(item_key)
                fields = [
                    FieldChange(
                        FIELD_LABELS[part.collection][name],
                        old_texts.value(part.collection, name, (old_item or {}).get(name)),
                        new_texts.value(part.collection, name, new_item.get(name)),
                    )
                    for name in part.fields
                    if old_item is None or old_item.get(name) != new_item.get(name)
                ]
                if old_item is None:
                    fields = [f for f in fields if f.after != EMPTY]
                if old_item is None or fields:
                    changes.append(
                        ItemChange(
                            f"{part.collection}/{item_key}",
                            new_texts.title(part.collection, new_item),
                            Change.ADDED if old_item is None else Change.CHANGED,
                            fields,
                        )
                    )
            for item_key, old_item in before.items():
                if item_key not in after:
                    fields = [
                        FieldChange(
                            FIELD_LABELS[part.collection][name],
                            old_texts.value(part.collection, name, old_item.get(name)),
                            EMPTY,
                        )
                        for name in part.fields
                        if not is_empty(old_item.get(name))
                    ]
                    changes.append(
                        ItemChange(
                            f"{part.collection}/{item_key}",
                            old_texts.title(part.collection, old_item),
                            Change.REMOVED,
                            fields,
                        )
                    )
        if changes:
            sections.append(SectionChanges(key, section_title(key, title), changes))
    return sections


def anchors_of(sections: list[SectionChanges]) -> set[str]:
    """The items a diff names (added, removed or changed)."""
    return {item.anchor for section in sections for item in section.items}


def sections_to_json(sections: list[SectionChanges]) -> list[dict[str, Any]]:
    """The diff as plain JSON data (a pack's context stores it)."""
    return [asdict(section) for section in sections]


def sections_from_json(data: list[dict[str, Any]]) -> list[SectionChanges]:
    return [
        SectionChanges(
            section["key"],
            section["title"],
            [
                ItemChange(
                    item["anchor"],
                    item["title"],
                    Change(item["change"]),
                    [FieldChange(**field) for field in item["fields"]],
                )
                for item in section["items"]
            ],
        )
        for section in data
    ]


def count_changes(sections: list[SectionChanges]) -> dict[str, int]:
    """How many distinct items were added, removed and changed (a level counts once even when
    both its ladder and its governance fields changed)."""
    seen: dict[str, Change] = {}
    for section in sections:
        for item in section.items:
            seen.setdefault(item.anchor, item.change)
    return {change.value: sum(1 for c in seen.values() if c is change) for change in Change}
