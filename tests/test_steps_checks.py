"""Consistency checks across the steps, case by case, and the checks page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from escalation.checks import Fix, is_ready_for_review, run_checks, step_completion
from escalation.demo_framework import fill_demo_framework
from escalation.large_framework import fill_large_framework
from escalation.models import (
    AISystem,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    ReviewCadence,
    SunsetRule,
    Threshold,
)
from tests.factories import make_engagement, make_member
from tests.framework_content import make_framework
from workshops.models import Role
from workshops.views.steps import fix_url

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)


@pytest.fixture
def framework():
    framework = make_framework()
    fill_demo_framework(framework, END)
    return framework


def messages(framework, end=END):
    return [problem.message for problem in run_checks(framework, end)]


def test_the_demo_framework_is_ready_for_review(framework):
    assert is_ready_for_review(run_checks(framework, END))


def test_the_demo_framework_has_no_problems_at_all(framework):
    assert run_checks(framework, END) == []


def test_an_empty_framework_is_not_ready(db):
    assert not is_ready_for_review(run_checks(make_framework(), END))


def test_warnings_alone_leave_a_framework_ready(framework):
    ExternalTrigger.objects.filter(framework=framework).delete()
    problems = run_checks(framework, END)
    # No external trigger at all, and so none for the two vendor-hosted systems.
    assert [p.severity for p in problems] == ["warning"] * 3
    assert is_ready_for_review(problems)


def test_a_framework_without_ai_systems_is_blocked(db):
    problems = run_checks(make_framework(), END)
    assert any(p.step == "systems" and p.blocking for p in problems)


def test_a_model_without_thresholds_is_blocking(framework):
    AISystem.objects.create(
        framework=framework, key="new", name="New bot", model_name="m", workflow="w"
    )
    problem = next(p for p in run_checks(framework, END) if "New bot" in p.message)
    assert (problem.step, problem.blocking) == ("thresholds", True)
    assert problem.fix == Fix("thresholds", prefill=(("ai_system", "new"),))


def test_a_threshold_for_an_output_type_the_system_does_not_produce_is_blocking(framework):
    system = AISystem.objects.get(framework=framework, key="claims-triage")
    system.output_types = ["label"]
    system.save()
    assert any("“classification”, which the system does not list" in m for m in messages(framework))


def test_a_failure_type_without_a_level_is_blocking(framework):
    FailureMode.objects.filter(framework=framework, key="hallucination").update(
        recommended_level=None
    )
    problem = next(p for p in run_checks(framework, END) if "Hallucination" in p.message)
    assert problem.blocking and problem.fix == Fix("failure-modes", "hallucination")


def test_a_failure_type_mapped_to_another_frameworks_level_is_blocking(framework):
    foreign = EscalationLevel.objects.create(framework=make_framework(), key="x", name="X")
    FailureMode.objects.filter(framework=framework, key="hallucination").update(
        recommended_level=foreign
    )
    assert any("outside this framework" in m for m in messages(framework))


def test_a_missing_standard_failure_type_is_a_warning(framework):
    FailureMode.objects.filter(framework=framework, kind="format_violation").delete()
    problem = next(p for p in run_checks(framework, END) if "Format violation" in p.message)
    assert problem.severity == "warning"


def test_a_ladder_without_levels_is_blocking(db):
    problems = run_checks(make_framework(), END)
    assert any(p.step == "ladder" and p.blocking for p in problems)


def test_a_level_without_an_approval_owner_is_blocking(framework):
    EscalationLevel.objects.filter(framework=framework, key="fine-tuning").update(
        approval_owner_name=""
    )
    assert "“Fine-tuning” has no approval owner." in messages(framework)


def test_a_level_without_a_cost_ceiling_is_blocking(framework):
    EscalationLevel.objects.filter(framework=framework, key="fine-tuning").update(cost_ceiling=None)
    problem = next(p for p in run_checks(framework, END) if "no cost ceiling" in p.message)
    assert problem.blocking and problem.step == "governance"


def test_a_ceiling_lower_than_one_below_it_is_a_warning(framework):
    EscalationLevel.objects.filter(framework=framework, key="model-replacement").update(
        cost_ceiling=Decimal(1000)
    )
    problem = next(p for p in run_checks(framework, END) if "is below that of" in p.message)
    assert problem.severity == "warning" and "Full model replacement" in problem.message


def test_equal_ceilings_are_not_a_warning(framework):
    EscalationLevel.objects.filter(framework=framework, key="model-replacement").update(
        cost_ceiling=Decimal(120_000),
        estimated_cost_low=Decimal(100_000),
        estimated_cost_high=Decimal(100_000),
    )
    assert run_checks(framework, END) == []


def test_monthly_ceilings_in_two_currencies_cannot_be_compared(framework):
    # Hybrid routing's USD 13,000 per month is compared with the monthly ceilings below it only
    # (a running cost and a project budget are not one scale): here fine-tuning's, in EUR.
    EscalationLevel.objects.filter(framework=framework, key="fine-tuning").update(
        cost_ceiling_basis="monthly", estimated_cost_low=None, estimated_cost_high=None
    )
    assert "they cannot be compared" in " ".join(messages(framework))


def test_a_level_nothing_leads_to_is_a_warning(framework):
    level = EscalationLevel.objects.get(framework=framework, key="hybrid-routing")
    level.trigger = ""
    level.save()
    level.bounds.clear()
    problem = next(p for p in run_checks(framework, END) if "Nothing leads to" in p.message)
    assert problem.severity == "warning"


def test_a_bound_escalating_to_another_frameworks_level_is_blocking(framework):
    other = make_framework()
    fill_large_framework(other, systems=1, outputs_per_system=1, levels=1, failure_modes=1)
    bound = Bound.objects.filter(framework=framework).first()
    bound.escalates_to.add(EscalationLevel.objects.get(framework=other))
    assert any("escalates to a level outside" in m for m in messages(framework))


def test_a_drift_trigger_naming_another_frameworks_system_is_blocking(framework):
    foreign = AISystem.objects.create(
        framework=make_framework(), key="x", name="X", model_name="m", workflow="w"
    )
    DriftTrigger.objects.filter(framework=framework).update(ai_system=foreign)
    assert any("names an AI system outside" in m for m in messages(framework))


def test_a_cadence_without_a_first_date_is_blocking(framework):
    ReviewCadence.objects.filter(framework=framework, name="Framework review").update(
        first_date=None
    )
    assert "The review cadence “Framework review” has no first date." in messages(framework)


def test_no_cadence_at_all_is_blocking(framework):
    ReviewCadence.objects.filter(framework=framework).delete()
    assert "No scheduled review cadence is set." in messages(framework)


def test_a_cadence_starting_during_the_engagement_is_blocking(framework):
    ReviewCadence.objects.filter(framework=framework).update(first_date=END)
    problem = next(p for p in run_checks(framework, END) if "starts" in p.message)
    assert problem.blocking and problem.step == "review-cycle"


def test_the_review_date_is_not_checked_without_an_engagement_end(framework):
    ReviewCadence.objects.filter(framework=framework).update(first_date=END)
    assert run_checks(framework, None) == []


def test_no_drift_triggers_is_a_warning(framework):
    DriftTrigger.objects.filter(framework=framework).delete()
    assert "No drift or alert trigger is defined." in messages(framework)


def test_missing_sunset_criteria_is_a_warning(framework):
    SunsetRule.objects.filter(framework=framework).delete()
    framework.sunset_criteria = ""
    framework.save()
    assert "No sunset criteria are written." in messages(framework)


def test_step_completion_of_the_demo_is_full(framework):
    assert set(step_completion(framework).values()) == {100}


def test_step_completion_of_an_empty_framework_is_zero(db):
    assert set(step_completion(make_framework()).values()) == {0}


def test_step_completion_counts_ai_systems_with_thresholds(framework):
    Threshold.objects.filter(framework=framework, ai_system__key="claims-triage").delete()
    assert step_completion(framework)["thresholds"] == 67


def test_checks_take_a_constant_number_of_queries(framework, django_assert_num_queries):
    # One load per kind of row (nine), the bounds' levels and the levels' bounds (two), the
    # systems' unavailable levels, the failure modes' later rungs and systems, the external
    # triggers' systems (four).
    with django_assert_num_queries(15):
        run_checks(framework, END)
    large = make_framework()
    fill_large_framework(large)
    with django_assert_num_queries(15):
        run_checks(large, END)


def test_checks_page_lists_problems_with_a_link_to_fix_each(client, engagement, facilitator):
    client.force_login(facilitator)
    html = client.get(reverse("checks", args=[engagement.slug])).content.decode()
    assert "Not ready for review" in html
    assert reverse("step", args=[engagement.slug, "systems"]) + "?add=ai-systems" in html


def test_a_fix_links_to_the_step_with_its_form_open(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    FailureMode.objects.filter(framework=engagement.framework).update(recommended_level=None)
    problem = next(p for p in run_checks(engagement.framework, END) if p.fix and p.fix.item_key)
    url = fix_url(engagement.slug, problem)
    assert url == reverse("step", args=[engagement.slug, "failure-modes"]) + (
        f"?edit=failure-modes:{problem.fix.item_key}"
    )
    client.force_login(facilitator)
    html = client.get(url).content.decode()
    assert f'<tr id="row-failure-modes-{problem.fix.item_key}" class="editing">' in html


def test_checks_page_says_ready_for_the_demo(client, engagement, observer):
    fill_demo_framework(engagement.framework, datetime.date(2026, 11, 13))
    client.force_login(observer)
    html = client.get(reverse("checks", args=[engagement.slug])).content.decode()
    assert "Ready for review" in html


def test_checks_page_is_404_for_outsiders(client, engagement, outsider):
    client.force_login(outsider)
    assert client.get(reverse("checks", args=[engagement.slug])).status_code == 404


def test_checks_page_refuses_post(client, engagement, observer):
    client.force_login(observer)
    assert client.post(reverse("checks", args=[engagement.slug])).status_code == 405


def test_checks_page_query_count_does_not_grow_with_rows(
    client, engagement, facilitator, django_assert_num_queries
):
    # Session, user, membership+engagement+framework with the draft's content revision (the
    # report on it and the rendered list of problems, cached under it, come from this process's
    # memory), and the members' names the approver-group check reads. (The first request after
    # a write loads the framework once, and caches the report.)
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    client.get(reverse("checks", args=[engagement.slug]))
    with django_assert_num_queries(4):
        client.get(reverse("checks", args=[engagement.slug]))
    large = make_engagement(slug="large")
    make_member(large, Role.FACILITATOR, facilitator)
    fill_large_framework(large.framework)
    client.get(reverse("checks", args=[large.slug]))
    with django_assert_num_queries(4):
        client.get(reverse("checks", args=[large.slug]))
