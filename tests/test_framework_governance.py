"""Governance v2 (step 4): one framework currency that levels inherit, cost estimates as ranges
with a basis, timelines in a unit, k-of-a-group approval with a deputy, and the overrun rule; how
older documents read, what the checks say and what every artifact prints."""

from __future__ import annotations

import copy
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from pypdf import PdfReader

from escalation import formatting
from escalation.artifacts import ladder_csv
from escalation.demo_framework import fill_demo_framework
from escalation.diff import diff_documents
from escalation.document import build_document, document_sha256, upgrade_document
from escalation.document_reader import read_document
from escalation.forms import GovernanceLevelForm
from escalation.models import EscalationLevel, FrameworkVersion
from escalation.pdf import build_pack
from escalation.versions import stored_hash_matches
from workshops.packs import artifact_source, pack_context

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)


def _old_level(key, currency, estimate="2000.00", days=5):
    """A level as version 2 wrote it before the governance keys."""
    return {
        "key": key,
        "name": key.title(),
        "kind": "custom",
        "trigger": "",
        "entry_criteria": "",
        "exit_criteria": "",
        "rollback_rule": "",
        "approval_owner_name": "Dana Lead",
        "approval_owner_role": "",
        "approval_rule": "single",
        "approval_group": "",
        "cost_ceiling": "5000.00",
        "currency": currency,
        "estimated_cost_delta": estimate,
        "timeline_delta_days": days,
    }


OLD_V2 = {
    "schema_version": 2,
    "name": "Frozen before the governance keys",
    "working_days": 10,
    "ai_systems": [],
    "thresholds": [],
    "bounds": [],
    "failure_modes": [],
    "levels": [_old_level("prompt", "CHF"), _old_level("tune", "CHF", estimate=None, days=None)],
    "governance": {"scope_creep_rule": "One rung at a time."},
    "review_cycle": {
        "frequency": "quarterly",
        "first_review_date": None,
        "sunset_criteria": "",
        "drift_triggers": [],
        "external_triggers": [],
    },
}


# Older documents: read without loss.


def test_an_older_document_takes_the_currency_its_levels_share():
    upgraded = upgrade_document(OLD_V2)
    assert upgraded["governance"]["currency"] == "CHF"
    assert [level["currency"] for level in upgraded["levels"]] == ["", ""]


def test_an_older_document_with_mixed_currencies_keeps_the_others_as_overrides():
    old = copy.deepcopy(OLD_V2)
    old["levels"].append(_old_level("replace", "USD"))
    upgraded = upgrade_document(old)
    assert upgraded["governance"]["currency"] == "CHF"
    assert [level["currency"] for level in upgraded["levels"]] == ["", "", "USD"]


def test_an_older_estimate_is_a_one_off_range_and_its_days_working_days():
    level = upgrade_document(OLD_V2)["levels"][0]
    assert (level["estimated_cost_low"], level["estimated_cost_high"]) == ("2000.00", "2000.00")
    assert (level["cost_basis"], level["timeline_amount"], level["timeline_unit"]) == (
        "one_off",
        5,
        "working_days",
    )
    assert "estimated_cost_delta" not in level and "timeline_delta_days" not in level


def test_a_level_lacking_a_governance_key_reads_with_its_default_whatever_the_currency():
    # The framework already names its currency, so only the level's keys are missing: they are
    # filled exactly as for a document from before the governance keys.
    upgraded = upgrade_document(OLD_V2)
    partly = copy.deepcopy(upgraded)
    del partly["levels"][0]["deputy_name"], partly["levels"][0]["timeline_unit"]
    assert upgrade_document(partly)["levels"][0] == upgraded["levels"][0]


def test_an_older_document_imports_and_exports_with_the_new_keys():
    exported = build_document(read_document(copy.deepcopy(OLD_V2)), working_days=10)
    assert exported == upgrade_document(OLD_V2)


@pytest.fixture
def frozen_old(engagement):
    return FrameworkVersion.objects.create(
        framework=engagement.framework, number=1, document=OLD_V2, sha256=document_sha256(OLD_V2)
    )


def test_a_frozen_older_version_keeps_its_hash_and_renders(
    client, observer, engagement, frozen_old
):
    client.force_login(observer)
    html = client.get(reverse("version_artifacts", args=[engagement.slug, 1])).content.decode()
    assert "CHF 2,000 one-off" in html and "5 working days" in html
    assert stored_hash_matches(frozen_old)


def test_a_frozen_older_version_diffs_against_today_only_by_what_changed(frozen_old):
    today = build_document(read_document(copy.deepcopy(OLD_V2)), working_days=10)
    today["levels"][1]["estimated_cost_high"] = "3000.00"
    today["levels"][1]["estimated_cost_low"] = "1000.00"
    changes = diff_documents(frozen_old.document, today)
    fields = [(item.anchor, [f.label for f in item.fields]) for s in changes for item in s.items]
    assert fields == [
        ("levels/tune", ["Estimated cost (low end)", "Estimated cost (high end)"]),
    ]


# One format each.


def test_a_cost_range_reads_with_its_currency_and_basis():
    assert (
        formatting.cost_range("10000", "15000", "EUR", "monthly") == "EUR 10,000–15,000 per month"
    )
    assert formatting.cost_range("5000", "5000", "EUR", "one_off") == "EUR 5,000 one-off"


def test_a_timeline_reads_in_the_unit_it_was_given():
    assert formatting.timeline(10, "working_days") == "10 working days"
    assert formatting.timeline(1, "weeks") == "1 week"


def test_a_k_of_group_rule_names_k_the_group_size_and_the_people():
    text = formatting.approval_rule("k_of_group", "Dana Lead, Sam Risk; Ola", 2)
    assert text == "2 of 3: Dana Lead, Sam Risk, Ola"


# The governance form.

FORM = {
    "approval_owner_name": "Dana Lead",
    "approval_rule": "single",
    "cost_basis": "monthly",
    "cost_ceiling_basis": "monthly",
    "timeline_unit": "weeks",
    "row_version": "1",
}


@pytest.fixture
def level(engagement):
    fill_demo_framework(engagement.framework, END)
    return EscalationLevel.objects.get(framework=engagement.framework, key="fine-tuning")


def test_one_estimated_figure_is_a_range_whose_ends_agree(level):
    data = {**FORM, "estimated_cost_low": "5000"}
    form = GovernanceLevelForm(data, instance=level, framework=level.framework)
    assert form.is_valid() and form.cleaned_data["estimated_cost_high"] == Decimal(5000)


def test_a_k_of_group_rule_without_k_is_refused_beside_the_field(level):
    data = {**FORM, "approval_rule": "k_of_group", "approval_group": "Dana Lead, Sam Risk"}
    form = GovernanceLevelForm(data, instance=level, framework=level.framework)
    assert form.errors["approvals_required"] == ["Say how many of the group must approve."]


def test_a_high_end_below_the_low_end_is_refused(level):
    data = {**FORM, "estimated_cost_low": "5000", "estimated_cost_high": "4000"}
    form = GovernanceLevelForm(data, instance=level, framework=level.framework)
    assert "The high end cannot be below the low end." in form.errors["estimated_cost_high"]


def test_a_level_without_a_currency_prints_the_frameworks(client, observer, level):
    EscalationLevel.objects.filter(pk=level.pk).update(currency="")
    type(level.framework).objects.filter(pk=level.framework_id).update(currency="CHF")
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[level.framework.engagement.slug])).content
    assert "CHF 80,000–95,000 one-off" in html.decode()


# Checks, through the checks page: one firing and one silent case each.


@pytest.fixture
def demo(engagement):
    fill_demo_framework(engagement.framework, END)
    return engagement


def _checks(client, facilitator, engagement):
    client.force_login(facilitator)
    return client.get(reverse("checks", args=[engagement.slug])).content.decode()


def _level(engagement, key):
    return EscalationLevel.objects.filter(framework=engagement.framework, key=key)


ON_DIFFERENT_BASES = (
    "The cost estimate of “Fine-tuning” (EUR 80,000–95,000 per month) and its ceiling "
    "(EUR 120,000 one-off) are on different bases: they cannot be compared."
)


def test_an_estimate_on_another_basis_than_its_ceiling_cannot_be_compared(
    client, facilitator, demo
):
    assert ON_DIFFERENT_BASES not in _checks(client, facilitator, demo)
    _level(demo, "fine-tuning").update(cost_basis="monthly")
    assert ON_DIFFERENT_BASES in _checks(client, facilitator, demo)


FALLING = (
    "The cost ceiling of “Full model replacement” (EUR 100,000) is below that of “Fine-tuning” "
    "lower on the ladder (EUR 120,000)."
)


def test_a_ceiling_below_one_lower_on_the_ladder_is_flagged(client, facilitator, demo):
    assert FALLING not in _checks(client, facilitator, demo)
    _level(demo, "model-replacement").update(cost_ceiling=Decimal(100_000))
    assert FALLING in _checks(client, facilitator, demo)


SINGLE = "“Full model replacement” is approved by a single person"


def test_one_of_a_group_approving_a_replacement_is_a_single_person(client, facilitator, demo):
    assert SINGLE not in _checks(client, facilitator, demo)
    _level(demo, "model-replacement").update(approval_rule="k_of_group", approvals_required=1)
    assert SINGLE in _checks(client, facilitator, demo)


NOBODY = (
    "The approver group of “Fine-tuning” (Tomás Lindqvist, Arjun Appleby) names nobody in the "
    "engagement."
)


def test_an_approver_group_naming_nobody_in_the_engagement_is_flagged(client, facilitator, demo):
    assert NOBODY in _checks(client, facilitator, demo)  # the demo's people are not this cast's


def test_an_approver_group_naming_a_member_by_name_or_email_is_not(
    client, facilitator, approver, demo
):
    _level(demo, "fine-tuning").update(approval_group="Fay, Sam Risk")
    _level(demo, "model-replacement").update(approval_group="ABE@example.com, Sam Risk")
    html = _checks(client, facilitator, demo)
    assert "“Fine-tuning” (" not in html and "“Full model replacement” (" not in html


TOO_MANY = "“Hybrid routing” asks for 4 approvals from a group that names 3."


def test_k_larger_than_the_group_blocks_the_review(client, facilitator, demo):
    assert TOO_MANY not in _checks(client, facilitator, demo)
    _level(demo, "hybrid-routing").update(approvals_required=4)
    html = _checks(client, facilitator, demo)
    assert TOO_MANY in html and "Not ready for review" in html


# What the artifacts print.

HYBRID_ROUTING = [
    "USD 6,500–9,500 per month",
    "USD 13,000 per month",
    "2 of 3: Helen Okoro, Arjun Appleby, Tomás Lindqvist",
    "Arjun Appleby (Chief risk officer)",
    "2 months",
    "switches the fallback model off",
]


def test_the_artifacts_page_prints_every_governance_value(client, observer, demo):
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[demo.slug])).content.decode()
    assert [text for text in HYBRID_ROUTING if text not in html] == []


def test_the_ladder_csv_prints_a_row_of_governance_per_level(demo):
    rows = list(csv.DictReader(io.StringIO(ladder_csv(build_document(demo.framework)))))
    hybrid = next(row for row in rows if row["Name"] == "Hybrid routing")
    assert [text for text in HYBRID_ROUTING if text not in " ".join(hybrid.values())] == []
    assert rows[0]["Cost overrun rule"] == demo.framework.overrun_rule


def test_the_pack_prints_every_governance_value(demo):
    source = artifact_source(demo, None)
    pdf = build_pack(source.document, pack_context(source))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert [t for t in HYBRID_ROUTING if "".join(t.split()) not in flat] == []
    assert "".join(demo.framework.overrun_rule.split()) in flat


# Migrating an existing database.


@pytest.mark.django_db(transaction=True)
def test_migrating_gives_each_framework_the_currency_its_levels_use_and_ranges_of_one_figure():
    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    old = migrate([("escalation", "0008_failure_response_path")])
    framework = old.get_model("escalation", "Framework").objects.create(name="Old")
    Level = old.get_model("escalation", "EscalationLevel")
    for position, (key, currency) in enumerate([("a", "CHF"), ("b", "USD"), ("c", "CHF")]):
        Level.objects.create(
            framework=framework,
            key=key,
            name=key,
            position=position,
            currency=currency,
            estimated_cost_delta=Decimal(100),
            timeline_delta_days=5,
        )
    new = migrate([("escalation", "0010_governance")])
    try:
        migrated = new.get_model("escalation", "Framework").objects.get(pk=framework.pk)
        levels = new.get_model("escalation", "EscalationLevel").objects.order_by("position")
        assert migrated.currency == "CHF"
        assert [(lv.currency, lv.estimated_cost_high, lv.timeline_unit) for lv in levels] == [
            ("", Decimal(100), "working_days"),
            ("USD", Decimal(100), "working_days"),
            ("", Decimal(100), "working_days"),
        ]
    finally:  # leave the test database fully migrated for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
