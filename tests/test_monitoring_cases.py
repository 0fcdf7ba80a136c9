"""The rules of escalation cases as specifications: a fired bound opens a case (or adds evidence to
the one in play) proposing the next available rung with its governance, the scope-creep rule, who
decides, what approval moves, and the sunset verdict read from the stored windows."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from escalation.models import ExternalEvent
from monitoring import cases
from monitoring.cases import Verdict, improvement_target, propose_level
from monitoring.models import (
    CaseEvent,
    CaseEvidence,
    CaseKind,
    CaseStatus,
    EscalationCase,
    SystemLevel,
    WindowResult,
)
from monitoring.results import evaluate_all
from tests.factories import SEEDED, make_member, make_user
from tests.live_demo import GROUNDEDNESS, feed
from workshops.models import Activity, Role

pytestmark = pytest.mark.django_db


# The ladder, on a plain document.

LADDER = {
    "ai_systems": [
        {"key": "bot", "current_level": "prompt", "unavailable_levels": ["fine-tuning"]},
    ],
    "levels": [
        {"key": "prompt", "name": "Prompt"},
        {"key": "rag", "name": "Retrieval"},
        {"key": "fine-tuning", "name": "Fine-tuning"},
        {"key": "routing", "name": "Routing"},
        {
            "key": "replacement",
            "name": "Replacement",
            "direct_entry_when": "The vendor retires the model",
            "direct_entry_approver": "Steering committee",
        },
    ],
}


def test_the_proposal_is_the_next_rung_above_the_live_level():
    assert propose_level(LADDER, "bot", "prompt").level["key"] == "rag"


def test_a_system_below_the_first_rung_is_proposed_the_first():
    assert propose_level(LADDER, "bot", "").level["key"] == "prompt"


def test_a_rung_unavailable_to_the_system_is_passed_over():
    assert propose_level(LADDER, "bot", "rag").level["key"] == "routing"


def test_a_jump_past_untried_rungs_without_a_stated_skip_proposes_the_next_rung():
    proposal = propose_level(LADDER, "bot", "prompt", wanted=["routing"])
    assert proposal.level["key"] == "rag"
    assert "scope-creep rule" in proposal.note


def test_a_jump_to_a_level_stating_its_direct_entry_names_that_approval():
    proposal = propose_level(LADDER, "bot", "prompt", wanted=["replacement"])
    assert proposal.level["key"] == "replacement"
    assert proposal.skip_approval == (
        "The vendor retires the model. Approved by: Steering committee"
    )
    assert proposal.skipped == ["2. Retrieval", "4. Routing"]


def test_the_top_of_the_ladder_proposes_nothing():
    assert propose_level(LADDER, "bot", "replacement").level is None


def test_the_improvement_target_closes_the_fraction_of_the_gap_either_way():
    assert improvement_target(0.7, 0.9, 0.5, lower_is_better=False) == pytest.approx(0.8)
    assert improvement_target(10.0, 4.0, 0.5, lower_is_better=True) == pytest.approx(7.0)
    assert improvement_target(0.95, 0.9, 0.5, lower_is_better=False) == 0.9


# On the demo client's signed-off framework (the `demo` fixture, tests/live_demo.py).


def only_case(engagement) -> EscalationCase:
    return EscalationCase.objects.get(engagement=engagement)


def test_a_fired_bound_opens_a_case_proposing_the_next_rung_and_its_governance(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    case = only_case(engagement)
    assert (case.kind, case.bound_key, case.status) == (
        CaseKind.BOUND_BREACH,
        GROUNDEDNESS,
        CaseStatus.OPEN,
    )
    assert (case.from_level_key, case.proposed_level_key) == (
        "prompt-optimization",
        "retrieval-augmentation",
    )
    assert (case.owner, case.approval_rule, case.cost_ceiling, case.cost_estimate) == (
        "Priya Natarajan (AI product owner)",
        "Single approver",
        "EUR 25,000 one-off",
        "EUR 15,000–18,000 one-off",
    )


def test_later_fired_windows_are_evidence_of_the_same_case(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    feed(engagement, [0.80], start=datetime.date(2026, 11, 4))
    case = only_case(engagement)
    assert case.evidence.count() == 2
    assert case.events.filter(kind=CaseEvent.Kind.EVIDENCE_ADDED).count() == 1


def test_re_evaluating_records_each_fired_window_once(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80, 0.80])
    evaluate_all(engagement, demo["version"])
    assert (EscalationCase.objects.count(), only_case(engagement).evidence.count()) == (1, 2)


def test_re_evaluating_keeps_each_cases_evidence_as_it_was_decided_on(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80, 0.80])
    before = list(only_case(engagement).evidence.values("window_start", "value", "sample_size"))
    assert CaseEvidence.objects.filter(window__isnull=False).exists()
    replaced = set(WindowResult.objects.values_list("pk", flat=True))
    evaluate_all(engagement, demo["version"])
    assert not WindowResult.objects.filter(pk__in=replaced).exists()  # every window replaced
    after = list(only_case(engagement).evidence.values("window_start", "value", "sample_size"))
    assert after == before


def test_windows_that_do_not_fire_open_no_case(engagement, demo):
    feed(engagement, [0.80, 0.90, 0.80, 0.90])
    assert not EscalationCase.objects.exists()


def test_opening_a_case_is_audited_and_mails_the_owner(
    engagement, demo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        feed(engagement, [0.80, 0.80, 0.80])
    assert Activity.objects.filter(verb="case.open").count() == 1
    mails = DBTaskResult.objects.filter(task_path="workshops.notifications.deliver_mail")
    assert [task.args_kwargs["args"][2] for task in mails] == ["priya@example.com"]


def test_the_owner_approving_moves_the_live_level_and_starts_the_sunset_clock(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    case = only_case(engagement)
    assert cases.approve_case(case, demo["owner"], "Go", authentication=SEEDED)
    level = SystemLevel.objects.get(engagement=engagement, ai_system="support-assistant")
    assert level.level_key == "retrieval-augmentation"
    assert case.baseline_value == pytest.approx(0.80)
    assert case.sunset_on is None  # the demo's sunset rule covers fine-tuning and routing only


def test_a_facilitator_cannot_approve_on_the_owners_behalf(engagement, demo, facilitator):
    feed(engagement, [0.80, 0.80, 0.80])
    with pytest.raises(PermissionDenied):
        cases.approve_case(only_case(engagement), facilitator, "", authentication=SEEDED)


def test_an_approver_the_level_does_not_name_cannot_approve(engagement, demo, approver):
    feed(engagement, [0.80, 0.80, 0.80])
    with pytest.raises(PermissionDenied):
        cases.approve_case(only_case(engagement), approver, "", authentication=SEEDED)


def test_a_second_approver_account_carrying_the_owners_name_decides_nothing(engagement, demo):
    # An insider invites an account of their own and names it after the owner: the framework
    # names people, so neither account decides until a facilitator tells them apart.
    impostor = make_member(
        engagement, Role.APPROVER, make_user("mallory", first_name="Priya", last_name="Natarajan")
    )
    feed(engagement, [0.80, 0.80, 0.80])
    case = only_case(engagement)
    for user in (impostor, demo["owner"]):
        with pytest.raises(PermissionDenied, match="More than one approver"):
            cases.approve_case(case, user, "Go", authentication=SEEDED)
    impostor.memberships.all().delete()
    assert cases.approve_case(case, demo["owner"], "Go", authentication=SEEDED)


def test_a_proposal_overtaken_by_another_decision_is_refused(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    SystemLevel.objects.create(
        engagement=engagement, ai_system="support-assistant", level_key="retrieval-augmentation"
    )
    with pytest.raises(cases.CaseRefusedError, match="has moved to 2. Retrieval augmentation"):
        cases.approve_case(only_case(engagement), demo["owner"], "", authentication=SEEDED)


def test_declining_needs_a_reason_without_control_characters(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    with pytest.raises(ValidationError):
        cases.decline_case(only_case(engagement), demo["owner"], "no\x00way", authentication=SEEDED)
    with pytest.raises(ValidationError):
        cases.decline_case(only_case(engagement), demo["owner"], "  ", authentication=SEEDED)
    assert only_case(engagement).status == CaseStatus.OPEN


def test_a_level_ruled_by_all_of_a_group_moves_only_with_every_approval(engagement, demo):
    """The extraction pipeline, at few-shot enrichment, is proposed fine-tuning: approved by all
    of Tomás Lindqvist and Arjun Appleby."""
    SystemLevel.objects.create(
        engagement=engagement, ai_system="document-extraction", level_key="few-shot-enrichment"
    )
    case = cases.open_review_case(
        engagement,
        demo["version"],
        ai_system="document-extraction",
        kind=CaseKind.EXTERNAL_EVENT,
        trigger_key="",
        reason="A regulator's letter",
    )
    tomas, arjun = (
        make_member(engagement, Role.APPROVER, make_user(name, first_name=first, last_name=last))
        for name, first, last in (("tomas", "Tomás", "Lindqvist"), ("arjun", "Arjun", "Appleby"))
    )
    assert (case.proposed_level_key, case.approvals_required) == ("fine-tuning", 2)
    assert not cases.approve_case(case, tomas, "", authentication=SEEDED)
    assert cases.approve_case(case, arjun, "", authentication=SEEDED)


def test_an_external_event_opens_a_review_case_from_the_matching_trigger(
    engagement, demo, facilitator
):
    case = cases.record_external_event(
        engagement,
        demo["version"],
        facilitator,
        event=ExternalEvent.FOUNDATION_MODEL_UPDATE,
        event_label="Foundation model update",
        ai_system="support-assistant",
        text="gpt-4o 2026-11 release",
    )
    assert (case.kind, case.trigger_key, case.proposed_level_key) == (
        CaseKind.EXTERNAL_EVENT,
        "foundation-model-update",
        "retrieval-augmentation",
    )
    assert case.reason.startswith("gpt-4o 2026-11 release\n\nFoundation model update")


# The sunset verdict.


@pytest.fixture
def approved(engagement, demo):
    """The groundedness case approved with a 30-day sunset rule closing half the gap: at
    approval 0.70 against ≥ 0.85, so 0.775 or better is required."""
    feed(engagement, [0.70, 0.70, 0.70])
    case = only_case(engagement)
    cases.approve_case(case, demo["owner"], "Go", authentication=SEEDED)
    case.sunset_after_days, case.required_improvement = 30, "0.5"
    case.sunset_on = timezone.localdate() + datetime.timedelta(days=30)
    case.save()
    case.refresh_from_db()
    return case


def test_a_metric_that_closed_the_required_fraction_proposes_closure(engagement, approved):
    feed(engagement, [0.80], start=timezone.localdate() + datetime.timedelta(days=1))
    verdict = cases.sunset_verdict(approved)
    assert (verdict.verdict, verdict.target) == (Verdict.IMPROVED, pytest.approx(0.775))


def test_a_metric_short_of_the_fraction_is_pending_until_the_sunset_date(engagement, approved):
    feed(engagement, [0.75], start=timezone.localdate() + datetime.timedelta(days=1))
    assert cases.sunset_verdict(approved).verdict == Verdict.PENDING


def test_a_metric_short_of_the_fraction_at_the_sunset_date_proposes_roll_back(engagement, approved):
    feed(engagement, [0.75], start=timezone.localdate() + datetime.timedelta(days=1))
    verdict = cases.sunset_verdict(approved, today=approved.sunset_on)
    assert verdict.verdict == Verdict.NOT_IMPROVED


def test_rolling_back_puts_the_system_back_on_its_level(engagement, demo, approved):
    cases.roll_back_case(
        approved, demo["owner"], "No better", authentication=SEEDED, today=approved.sunset_on
    )
    level = SystemLevel.objects.get(engagement=engagement, ai_system="support-assistant")
    assert (approved.status, level.level_key) == (CaseStatus.ROLLED_BACK, "prompt-optimization")


def test_closing_is_refused_while_the_verdict_proposes_no_closure(engagement, demo, approved):
    with pytest.raises(cases.CaseRefusedError):
        cases.close_case(approved, demo["owner"], "Done", authentication=SEEDED)


def test_recording_fired_windows_costs_the_same_queries_for_one_bound_as_for_many(engagement, demo):
    """The fired windows are recorded on every intake batch: recorded evidence, the cases in
    play, the live levels, the new cases, the cases again, evidence, events, audit rows and the
    members to mail (one query each), however many bounds fired."""
    extraction = ("document-extraction", "extraction", "field_accuracy")
    feed(engagement, [0.80, 0.80, 0.80])
    feed(engagement, [0.90, 0.90, 0.90], series=extraction)
    counts = []
    for bounds in ([GROUNDEDNESS], [GROUNDEDNESS, "document-extraction-extraction-field-accuracy"]):
        EscalationCase.objects.all().delete()
        windows = WindowResult.objects.filter(fired=True, bound_key__in=bounds)
        with CaptureQueriesContext(connection) as captured:
            opened = cases.record_fired_windows(engagement, demo["version"], windows)
        counts.append((len(opened), len(captured)))
    assert counts[0][1] == counts[1][1]
    assert [opened for opened, _ in counts] == [1, 2]
