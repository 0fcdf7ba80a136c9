"""The ladder in framework model v2: a level may be entered directly (skipping the rungs below it)
when it says so and someone approves; each AI system records the rung it stands on and the rungs
it cannot take. Through the checks page, the step forms, the document, the artifacts and the pack."""

from __future__ import annotations

import copy
import datetime
import io
import json

import pytest
from django.urls import reverse
from pypdf import PdfReader

from escalation.artifacts import matrix_csv, register_csv
from escalation.copying import copy_framework
from escalation.demo_framework import fill_demo_framework
from escalation.diff import diff_documents
from escalation.document import build_document, document_sha256, export_text
from escalation.document_reader import DocumentError, read_document
from escalation.models import AISystem, EscalationLevel, FrameworkVersion
from escalation.pdf import build_pack
from workshops.models import Review
from workshops.packs import artifact_source, pack_context

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)
SKIP_TO_REPLACEMENT = (
    "The vendor retires the model with less than 90 days' notice: no lower rung can keep the "
    "system running. Approved by: AI steering committee (CTO, CRO, COO)"
)


@pytest.fixture
def demo(engagement):
    fill_demo_framework(engagement.framework, END)
    return engagement


def _level(engagement, key):
    return EscalationLevel.objects.get(framework=engagement.framework, key=key)


def _system(engagement, key):
    return AISystem.objects.get(framework=engagement.framework, key=key)


def _checks_html(client, facilitator, engagement):
    client.force_login(facilitator)
    html = client.get(reverse("checks", args=[engagement.slug])).content.decode()
    return html.replace("&#x27;", "'")


# Checks, through the checks page: one firing and one silent case each.

SKIPPING_FACTUAL_ERROR = (
    "The failure type “Factual error” enters the ladder at “Retrieval augmentation”, skipping "
    "“Prompt optimization” below it, but “Retrieval augmentation” states no direct entry."
)


def test_a_failure_path_entering_above_the_first_rung_with_a_stated_skip_raises_nothing(
    client, facilitator, demo
):
    assert "states no direct entry" not in _checks_html(client, facilitator, demo)


def test_a_failure_path_entering_above_the_first_rung_without_a_stated_skip_is_flagged(
    client, facilitator, demo
):
    EscalationLevel.objects.filter(pk=_level(demo, "retrieval-augmentation").pk).update(
        direct_entry_when="", direct_entry_approver=""
    )
    html = _checks_html(client, facilitator, demo)
    assert SKIPPING_FACTUAL_ERROR in html and "Ready for review" in html


def test_a_failure_path_starting_on_the_first_rung_needs_no_skip(client, facilitator, demo):
    EscalationLevel.objects.filter(framework=demo.framework).update(
        direct_entry_when="", direct_entry_approver=""
    )
    html = _checks_html(client, facilitator, demo)
    assert "“Format violation” enters the ladder" not in html  # it starts at prompt optimization


def test_a_route_to_a_level_not_available_to_the_system_raises_nothing_on_the_demo(
    client, facilitator, demo
):
    assert "which is not available to it" not in _checks_html(client, facilitator, demo)


def test_a_bound_escalating_to_a_level_not_available_to_its_system_is_a_warning(
    client, facilitator, demo
):
    _system(demo, "support-assistant").unavailable_levels.add(_level(demo, "prompt-optimization"))
    html = _checks_html(client, facilitator, demo)
    assert (
        "The bound “≥ 0.85 answer groundedness” of Customer-support assistant escalates to "
        "“Prompt optimization”, which is not available to it."
    ) in html


def test_a_failure_path_through_a_level_not_available_to_a_system_is_a_warning(
    client, facilitator, demo
):
    _system(demo, "claims-triage").unavailable_levels.add(_level(demo, "few-shot-enrichment"))
    html = _checks_html(client, facilitator, demo)
    assert (
        "The response path of “Hallucination” sends Claims-triage classifier to "
        "“Few-shot enrichment”, which is not available to it."
    ) in html
    assert "Ready for review" in html


def test_a_failure_path_for_other_systems_does_not_concern_this_one(client, facilitator, demo):
    # Format violations apply to the extraction pipeline only.
    _system(demo, "claims-triage").unavailable_levels.add(_level(demo, "prompt-optimization"))
    assert "“Format violation” sends" not in _checks_html(client, facilitator, demo)


def test_a_system_at_a_level_not_available_to_it_blocks_the_review(client, facilitator, demo):
    _system(demo, "document-extraction").unavailable_levels.add(
        _level(demo, "retrieval-augmentation")
    )
    html = _checks_html(client, facilitator, demo)
    assert (
        "Document-extraction pipeline is recorded at “Retrieval augmentation”, which is marked "
        "as not available to it."
    ) in html
    assert "Not ready for review" in html


def test_a_system_at_an_available_level_raises_nothing(client, facilitator, demo):
    assert "is recorded at" not in _checks_html(client, facilitator, demo)


# The step forms.


def _system_data(**overrides):
    data = {
        "name": "Customer-support assistant",
        "vendor": "OpenAI",
        "model_name": "gpt-4o",
        "workflow": "Answers policyholders",
        "output_types": "chat answer, summary",
        "row_version": 1,
    }
    return data | overrides


def _edit_system_url(engagement, key):
    return reverse("step_item_edit", args=[engagement.slug, "systems", "ai-systems", key])


def test_the_ai_system_form_offers_the_levels_as_checkboxes(client, facilitator, demo):
    client.force_login(facilitator)
    url = reverse("step", args=[demo.slug, "systems"]) + "?edit=ai-systems:support-assistant"
    html = client.get(url).content.decode()
    assert 'type="checkbox" name="unavailable_levels"' in html
    assert '<select name="current_level"' in html


def test_a_facilitator_records_where_a_system_stands_on_the_ladder(client, facilitator, demo):
    system = _system(demo, "claims-triage")
    client.force_login(facilitator)
    data = _system_data(
        name=system.name,
        row_version=system.row_version,
        current_level=_level(demo, "few-shot-enrichment").pk,
        unavailable_levels=[_level(demo, "fine-tuning").pk, _level(demo, "hybrid-routing").pk],
    )
    response = client.post(_edit_system_url(demo, system.key), data)
    system.refresh_from_db()
    assert response.status_code == 302
    assert system.current_level.key == "few-shot-enrichment"
    assert {lv.key for lv in system.unavailable_levels.all()} == {"fine-tuning", "hybrid-routing"}


def test_a_system_cannot_be_placed_on_a_level_marked_unavailable_to_it(client, facilitator, demo):
    system = _system(demo, "claims-triage")
    fine_tuning = _level(demo, "fine-tuning")
    client.force_login(facilitator)
    data = _system_data(
        name=system.name,
        row_version=system.row_version,
        current_level=fine_tuning.pk,
        unavailable_levels=[fine_tuning.pk],
    )
    response = client.post(_edit_system_url(demo, system.key), data)
    assert "“Fine-tuning” is marked as not available to this system." in response.content.decode()
    system.refresh_from_db()
    assert system.current_level is None


def _ladder_data(level, **overrides):
    data = {
        "name": level.name,
        "kind": level.kind,
        "trigger": level.trigger,
        "entry_criteria": level.entry_criteria,
        "exit_criteria": level.exit_criteria,
        "rollback_rule": level.rollback_rule,
        "row_version": level.row_version,
    }
    return data | overrides


def _edit_level_url(engagement, key):
    return reverse("step_item_edit", args=[engagement.slug, "ladder", "levels", key])


def test_a_facilitator_states_when_a_level_may_be_entered_directly(client, facilitator, demo):
    level = _level(demo, "hybrid-routing")
    client.force_login(facilitator)
    data = _ladder_data(
        level,
        direct_entry_when="A regulator orders a human in the loop",
        direct_entry_approver="CRO",
    )
    response = client.post(_edit_level_url(demo, level.key), data)
    level.refresh_from_db()
    assert response.status_code == 302
    assert (level.direct_entry_when, level.direct_entry_approver) == (
        "A regulator orders a human in the loop",
        "CRO",
    )


def test_a_direct_entry_without_an_approver_is_refused_once(client, facilitator, demo):
    level = _level(demo, "hybrid-routing")
    client.force_login(facilitator)
    data = _ladder_data(level, direct_entry_when="A regulator orders it", direct_entry_approver="")
    html = client.post(_edit_level_url(demo, level.key), data).content.decode()
    assert html.count("Name who approves entering this level directly.") == 1
    level.refresh_from_db()
    assert level.direct_entry_when == ""


# The document.


def test_the_ladder_state_survives_export_import_export(demo):
    document = build_document(demo.framework)
    imported = build_document(read_document(json.loads(export_text(document))))
    assert export_text(imported) == export_text(document)
    support = next(s for s in imported["ai_systems"] if s["key"] == "support-assistant")
    assert (support["current_level"], support["unavailable_levels"]) == (
        "prompt-optimization",
        ["fine-tuning"],
    )


def _without_ladder_keys(document):
    """The document as a version frozen before the ladder fields existed held it."""
    old = copy.deepcopy(document)
    for system in old["ai_systems"]:
        del system["current_level"], system["unavailable_levels"]
    for level in old["levels"]:
        del level["direct_entry_when"], level["direct_entry_approver"]
    return old


def test_a_document_without_the_ladder_keys_imports_with_their_defaults(demo):
    framework = read_document(_without_ladder_keys(build_document(demo.framework)))
    document = build_document(framework)
    assert {s["current_level"] for s in document["ai_systems"]} == {None}
    assert {lv["direct_entry_when"] for lv in document["levels"]} == {""}


def test_a_level_key_unknown_to_the_document_is_refused_by_its_place(demo):
    document = build_document(demo.framework)
    document["ai_systems"][1]["current_level"] = "teleportation"
    document["ai_systems"][2]["unavailable_levels"] = ["fine-tuning", "fine-tuning"]
    with pytest.raises(DocumentError) as refused:
        read_document(document)
    assert set(refused.value.problems) == {
        "ai_systems[1].current_level: no level with key 'teleportation'",
        "ai_systems[2].unavailable_levels: a key is listed twice",
    }


@pytest.mark.parametrize(("level", "when"), [(5, None), (0, "   ")])
def test_a_direct_entry_without_an_approver_is_refused_on_import(demo, level, when):
    document = build_document(demo.framework)
    document["levels"][level]["direct_entry_approver"] = ""
    if when is not None:
        document["levels"][level]["direct_entry_when"] = when
    with pytest.raises(DocumentError) as refused:
        read_document(document)
    assert refused.value.problems == [
        f"levels[{level}].direct_entry_approver: Name who approves entering this level directly."
    ]


@pytest.fixture
def frozen_before(demo):
    """Version 1, frozen before the ladder fields existed: its stored document lacks them."""
    document = _without_ladder_keys(build_document(demo.framework, working_days=10))
    version = FrameworkVersion.objects.create(
        framework=demo.framework, number=1, document=document, sha256=document_sha256(document)
    )
    Review.objects.create(engagement=demo, version=version)
    return version


def test_a_version_frozen_before_the_ladder_fields_still_renders(
    client, observer, demo, frozen_before
):
    client.force_login(observer)
    for name in ["version_artifacts", "version_detail"]:
        response = client.get(reverse(name, args=[demo.slug, 1]))
        assert response.status_code == 200
    html = client.get(reverse("version_artifacts", args=[demo.slug, 1])).content.decode()
    assert "Not escalated" in html and "Direct entry:" not in html


def test_a_version_frozen_before_the_ladder_fields_exports_them_as_defaults(
    client, reviewer, demo, frozen_before
):
    client.force_login(reviewer)
    response = client.get(reverse("version_document_json", args=[demo.slug, 1]))
    document = json.loads(response.content)
    assert {s["current_level"] for s in document["ai_systems"]} == {None}
    assert {lv["direct_entry_approver"] for lv in document["levels"]} == {""}


def test_the_diff_from_a_version_without_the_ladder_fields_names_only_what_was_set(
    demo, frozen_before
):
    changes = {
        item.anchor: {field.label: (field.before, field.after) for field in item.fields}
        for section in diff_documents(frozen_before.document, build_document(demo.framework))
        for item in section.items
    }
    assert changes == {
        "ai_systems/support-assistant": {
            "Current escalation level": ("—", "Prompt optimization"),
            "Levels not available to it": ("—", "Fine-tuning"),
        },
        "ai_systems/document-extraction": {
            "Current escalation level": ("—", "Retrieval augmentation"),
        },
        "levels/retrieval-augmentation": {
            "Direct entry (skipping lower levels) when": (
                "—",
                "The failure is traced to missing or stale knowledge, which no prompt change "
                "can supply.",
            ),
            "Direct entry approved by": ("—", "The level's approval owner"),
        },
        "levels/few-shot-enrichment": {
            "Direct entry (skipping lower levels) when": (
                "—",
                "The failure is a recognisable case pattern that instructions alone have not "
                "taught.",
            ),
            "Direct entry approved by": ("—", "The level's approval owner"),
        },
        "levels/fine-tuning": {
            "Direct entry (skipping lower levels) when": (
                "—",
                "The model's confidence is miscalibrated on the labelled sample: prompts, "
                "retrieval and examples do not change how it scores itself.",
            ),
            "Direct entry approved by": ("—", "The level's approval owner"),
        },
        "levels/model-replacement": {
            "Direct entry (skipping lower levels) when": (
                "—",
                "The vendor retires the model with less than 90 days' notice: no lower rung "
                "can keep the system running.",
            ),
            "Direct entry approved by": ("—", "AI steering committee (CTO, CRO, COO)"),
        },
    }


def test_copying_a_framework_for_the_next_cycle_keeps_the_ladder_state(demo):
    copied = copy_framework(demo.framework)
    assert build_document(copied) == build_document(demo.framework)


# Artifacts, CSV and the pack.


def test_the_artifacts_print_each_systems_place_on_the_ladder_and_each_skip_rule(
    client, observer, demo
):
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[demo.slug])).content.decode()
    html = html.replace("&#x27;", "'")
    systems = html[html.index('id="ai-systems"') :].split("</section>")[0]
    assert "Current escalation level:</span> 1. Prompt optimization" in systems
    assert "Levels not available to it:</span> 4. Fine-tuning" in systems
    assert "Current escalation level:</span> Not escalated" in systems
    ladder = html[html.index('id="escalation-ladder"') :].split("</section>")[0]
    assert f"<strong>Direct entry:</strong> {SKIP_TO_REPLACEMENT}" in ladder
    assert "No direct entry: entered only after the levels below." in ladder


def test_the_register_csv_names_each_systems_current_and_unavailable_levels(demo):
    rows = register_csv(build_document(demo.framework)).splitlines()
    assert rows[0].endswith("Current escalation level,Levels not available to it")
    support = [row for row in rows if row.startswith("Customer-support assistant")]
    assert support and all(row.endswith("1. Prompt optimization,4. Fine-tuning") for row in support)


def test_the_matrix_csv_names_the_skip_a_path_enters_by(demo):
    text = matrix_csv(build_document(demo.framework))
    line = next(row for row in text.splitlines() if row.startswith("Confidence miscalibration"))
    assert "The model's confidence is miscalibrated on the labelled sample" in line


def test_the_pack_prints_the_skip_rules_and_each_systems_ladder_state(demo):
    source = artifact_source(demo, None)
    pdf = build_pack(source.document, pack_context(source))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    words = " ".join(text.replace("’", "'").split())
    assert "AI steering committee (CTO, CRO, COO)" in words
    assert "The vendor retires the model with less than 90 days' notice" in words
    assert "1. Prompt optimization" in words and "Not escalated" in words
    assert "Levels not available to it: 4. Fine-tuning" in words
