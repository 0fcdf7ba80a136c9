"""Diffs between two framework documents, read as a stakeholder reads them."""

import copy
import json

import pytest

from escalation.diff import (
    Change,
    anchors_of,
    count_changes,
    diff_documents,
    sections_from_json,
    sections_to_json,
)
from escalation.document import build_document
from escalation.presentation import item_anchors, readable_sections
from tests.framework_content import fill_small_framework, make_framework


@pytest.fixture
def document(db):
    framework = make_framework(name="Acme framework")
    fill_small_framework(framework)
    return build_document(framework)


def _level(document, key):
    return next(level for level in document["levels"] if level["key"] == key)


def _only_item(sections):
    [section] = sections
    [item] = section.items
    return section, item


def test_identical_documents_have_no_changes(document):
    assert diff_documents(document, copy.deepcopy(document)) == []


def test_a_changed_field_reads_with_its_human_name_and_old_and_new_values(document):
    new = copy.deepcopy(document)
    _level(new, "fine-tuning")["cost_ceiling"] = "55000.00"
    section, item = _only_item(diff_documents(document, new))
    assert section.title == "Step 4: Governance and cost guardrails"
    assert (item.title, item.change) == ("Fine-tuning", Change.CHANGED)
    assert [(f.label, f.before, f.after) for f in item.fields] == [
        ("Cost ceiling", "40000.00", "55000.00")
    ]


def test_a_renamed_item_is_a_change_not_a_removal_and_an_addition(document):
    new = copy.deepcopy(document)
    _level(new, "fine-tuning")["name"] = "Fine-tuning (LoRA)"
    _, item = _only_item(diff_documents(document, new))
    assert (item.change, item.title, item.fields[0].before) == (
        Change.CHANGED,
        "Fine-tuning (LoRA)",
        "Fine-tuning",
    )


def test_references_read_as_level_names_not_keys(document):
    new = copy.deepcopy(document)
    new["failure_modes"][0]["recommended_level"] = "prompt-optimization"
    _, item = _only_item(diff_documents(document, new))
    assert (item.fields[0].before, item.fields[0].after) == ("Fine-tuning", "Prompt optimization")


def test_choices_read_as_their_labels(document):
    new = copy.deepcopy(document)
    new["failure_modes"][0]["severity"] = "critical"
    _, item = _only_item(diff_documents(document, new))
    assert (item.fields[0].label, item.fields[0].before, item.fields[0].after) == (
        "Severity",
        "Medium",
        "Critical",
    )


def test_added_and_removed_items_are_listed_with_their_values(document):
    new = copy.deepcopy(document)
    removed = new["review_cycle"]["external_triggers"].pop()
    new["review_cycle"]["external_triggers"].append(
        {**removed, "key": "new-regulation", "event": "regulatory_change", "response": "Re-rate"}
    )
    [section] = diff_documents(document, new)
    changes = {item.anchor: item.change for item in section.items}
    assert changes == {
        "external_triggers/new-regulation": Change.ADDED,
        "external_triggers/model-update": Change.REMOVED,
    }


def test_a_level_counts_once_when_ladder_and_governance_both_changed(document):
    new = copy.deepcopy(document)
    _level(new, "fine-tuning").update(trigger="Two breaches", cost_ceiling="1.00")
    sections = diff_documents(document, new)
    assert len(sections) == 2
    assert count_changes(sections) == {"added": 0, "removed": 0, "changed": 1}


def test_the_diff_names_the_items_to_approve_again(document):
    new = copy.deepcopy(document)
    new["review_cycle"]["sunset_criteria"] = "Never."
    new["ai_systems"][0]["vendor"] = "OpenAI"
    changed = anchors_of(diff_documents(document, new))
    assert changed == {"review_cycle/schedule", "ai_systems/claims-bot"}


def test_a_diff_kept_as_json_reads_back_the_same(document):
    new = copy.deepcopy(document)
    new["ai_systems"][0]["vendor"] = "OpenAI"
    del new["failure_modes"][0]
    sections = diff_documents(document, new)
    kept = json.loads(json.dumps(sections_to_json(sections)))
    assert sections_from_json(kept) == sections


def test_every_item_of_a_document_can_be_commented_on(document):
    anchors = item_anchors(document)
    assert anchors["levels/fine-tuning"] == "Fine-tuning"
    assert anchors["thresholds/claims-bot-all"] == "Claims assistant · all outputs"


def test_readable_sections_follow_the_methods_steps(document):
    titles = [section.title for section in readable_sections(document)]
    assert titles[1:] == [
        "AI systems in scope",
        "Step 1: Performance thresholds",
        "Step 2: Failure-mode taxonomy",
        "Step 3: Escalation ladder",
        "Step 4: Governance and cost guardrails",
        "Step 5: Review cycle and sunset criteria",
    ]
