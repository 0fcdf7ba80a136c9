"""The method's starting point for new frameworks, and the demo client's realistic framework."""

from __future__ import annotations

import datetime

import pytest

from escalation.checks import is_ready_for_review, run_checks
from escalation.demo_framework import fill_demo_framework
from escalation.document import build_document
from escalation.method_defaults import apply_method_defaults
from escalation.models import EscalationLevel, ExternalTrigger, FailureKind, FailureMode
from tests.framework_content import make_framework
from workshops.demo import load_demo
from workshops.models import Engagement

pytestmark = pytest.mark.django_db


def test_method_defaults_give_five_failure_types_mapped_to_six_levels(db):
    framework = make_framework()
    apply_method_defaults(framework)
    failures = FailureMode.objects.filter(framework=framework)
    assert {f.kind for f in failures} == {k for k in FailureKind if k != FailureKind.CUSTOM}
    assert EscalationLevel.objects.filter(framework=framework).count() == 6
    assert all(f.recommended_level_id for f in failures)


def test_method_defaults_add_the_standard_external_triggers(db):
    framework = make_framework()
    apply_method_defaults(framework)
    events = set(
        ExternalTrigger.objects.filter(framework=framework).values_list("event", flat=True)
    )
    assert {"foundation_model_update", "regulatory_change"} <= events


def test_method_defaults_twice_change_nothing(db):
    framework = make_framework()
    apply_method_defaults(framework)
    first = build_document(framework)
    apply_method_defaults(framework)
    assert build_document(framework) == first


def test_demo_engagement_holds_a_realistic_framework(db):
    load_demo()
    document = build_document(Engagement.objects.get(slug="demo").framework)
    assert len(document["ai_systems"]) == 3 and len(document["levels"]) == 6
    assert len(document["failure_modes"]) == 5 and document["thresholds"]
    assert all(lv["approval_owner_name"] and lv["cost_ceiling"] for lv in document["levels"])


def test_demo_framework_is_ready_for_review(db):
    load_demo()
    framework = Engagement.objects.get(slug="demo").framework
    assert is_ready_for_review(run_checks(framework, datetime.date.today()))


def test_demo_framework_is_filled_only_once(db):
    framework = make_framework()
    assert fill_demo_framework(framework, datetime.date(2026, 11, 13))
    assert not fill_demo_framework(framework, datetime.date(2026, 11, 13))


def test_method_defaults_invent_no_numbers(db):
    framework = make_framework()
    apply_method_defaults(framework)
    document = build_document(framework)
    numbers = [
        level[name]
        for level in document["levels"]
        for name in [
            "cost_ceiling",
            "estimated_cost_low",
            "estimated_cost_high",
            "approvals_required",
            "timeline_amount",
        ]
    ]
    assert document["thresholds"] == [] and document["bounds"] == []
    assert numbers == [None] * len(numbers)
    assert [cadence["first_date"] for cadence in document["review_cycle"]["cadences"]] == [None]
