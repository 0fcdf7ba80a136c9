"""Day pages: the day's guidance, its step editors, notes saved as you go, the day-complete check."""

import datetime

from django.urls import reverse

from escalation.models import AISystem, Framework
from workshops.models import Activity, DayNote, Review, ReviewState
from workshops.plan import build_plan
from workshops.progress import Facts, day_progress, gather_facts, missing_for_day, plan_progress

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_day_page_shows_guidance_and_embeds_its_step_editors(client, facilitator):
    client.force_login(facilitator)
    html = client.get(reverse("day", args=["acme", 1])).content.decode()
    assert "Questions the group must settle" in html
    assert 'data-hx-get="/e/acme/steps/systems/?embed=1"' in html
    assert '<a href="/e/acme/steps/thresholds/">' in html


def test_day_page_links_previous_and_next_days(client, facilitator):
    client.force_login(facilitator)
    html = client.get(reverse("day", args=["acme", 2])).content.decode()
    assert f'rel="prev" href="{reverse("day", args=["acme", 1])}"' in html
    assert f'rel="next" href="{reverse("day", args=["acme", 3])}"' in html


def test_notes_are_saved_as_a_fragment_with_the_progress_out_of_band(client, facilitator):
    client.force_login(facilitator)
    response = client.post(
        reverse("day_notes", args=["acme", 3]),
        {"attendees": "Ann (claims)", "decisions": "Five failure kinds"},
        **HTMX,
    )
    html = response.content.decode()
    assert DayNote.objects.get(day_number=3).decisions == "Five failure kinds"
    assert 'id="plan-progress" class="wizard-progress" data-hx-swap-oob="true"' in html
    assert "<html" not in html


def test_saving_notes_is_recorded_in_the_activity(client, facilitator, engagement):
    client.force_login(facilitator)
    client.post(reverse("day_notes", args=["acme", 3]), {"attendees": "Ann"}, **HTMX)
    activity = Activity.objects.get(engagement=engagement)
    assert activity.changes == {"attendees": {"before": "", "after": "Ann"}}


def test_decisions_without_attendees_are_refused_beside_the_field_keeping_the_input(
    client, facilitator
):
    client.force_login(facilitator)
    response = client.post(
        reverse("day_notes", args=["acme", 3]), {"decisions": "Keep five kinds"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Record who was present before recording decisions." in html
    assert "Keep five kinds</textarea>" in html
    assert not DayNote.objects.exists()


def test_without_javascript_an_error_renders_the_whole_page(client, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("day_notes", args=["acme", 3]), {"decisions": "Keep"})
    assert response.status_code == 422
    assert "<html" in response.content.decode()


def test_without_javascript_a_save_redirects_back_to_the_day(client, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("day_notes", args=["acme", 3]), {"attendees": "Ann"})
    assert response["Location"] == reverse("day", args=["acme", 3])


def test_observers_read_the_notes_without_a_form(client, observer, engagement):
    DayNote.objects.create(engagement=engagement, day_number=1, attendees="Ann")
    client.force_login(observer)
    html = client.get(reverse("day", args=["acme", 1])).content.decode()
    assert "Ann" in html
    assert "Save notes" not in html


def test_day_check_lists_what_is_missing_from_real_content(client, facilitator, engagement):
    AISystem.objects.create(
        framework=engagement.framework, key="bot", name="Bot", model_name="m", workflow="w"
    )
    client.force_login(facilitator)
    html = client.get(reverse("day", args=["acme", 1])).content.decode()
    assert "Performance thresholds: nothing recorded yet." in html
    assert "AI systems in scope: nothing recorded yet." not in html


def _facts(today, notes=None, counts=None, **fields):
    return Facts(
        counts=counts or {},
        problems=fields.get("problems", []),
        version_frozen=fields.get("version_frozen", False),
        version_in_review=fields.get("version_in_review", False),
        notes=notes or {},
        today=today,
    )


PLAN = build_plan(datetime.date(2026, 11, 2), 10)


def test_days_before_today_that_miss_something_are_behind():
    rows = day_progress(PLAN, _facts(today=datetime.date(2026, 11, 4)))
    assert [row.status for row in rows[:4]] == ["behind", "behind", "today", "upcoming"]


def test_a_day_with_notes_and_content_is_done():
    note = DayNote(day_number=3, attendees="Ann", decisions="Five kinds")
    facts = _facts(datetime.date(2026, 11, 4), notes={3: note}, counts={"failure-modes": 5})
    assert day_progress(PLAN, facts)[2].status == "done"


def test_documentation_day_needs_consistency_and_a_frozen_version():
    note = DayNote(day_number=9, attendees="Ann", decisions="Ship it")
    facts = _facts(datetime.date(2026, 11, 4), notes={9: note}, problems=["No sunset criteria."])
    assert missing_for_day(PLAN[8], facts) == [
        "The consistency checks report 1 problem(s).",
        "Freeze a version of the framework.",
    ]


def test_progress_counts_checks_satisfied_across_the_plan():
    note = DayNote(day_number=1, attendees="Ann", decisions="Scope")
    facts = _facts(PLAN[0].date, notes={1: note}, problems=["No AI systems."])
    progress = plan_progress(day_progress(PLAN, facts))
    assert (progress.satisfied, progress.total) == (2, 32)


def test_the_plans_version_checks_follow_the_engagements_reviews(engagement, facilitator):
    def version_facts():
        facts = gather_facts(engagement, engagement.plan())
        return facts.version_frozen, facts.version_in_review

    assert version_facts() == (False, False)
    first = engagement.freeze_version(facilitator, "First draft")
    assert version_facts() == (True, False)
    Review.objects.filter(pk=first.pk).update(state=ReviewState.IN_REVIEW)
    assert version_facts() == (True, True)
    Review.objects.filter(pk=first.pk).update(state=ReviewState.APPROVED)
    assert version_facts() == (True, True)
    # a newer version signed off supersedes the first: the plan still has a frozen version
    Framework.objects.filter(pk=engagement.framework_id).update(sunset_criteria="In 2028.")
    second = engagement.freeze_version(facilitator, "Second draft")
    Review.objects.filter(pk=first.pk).update(state=ReviewState.SUPERSEDED)
    Review.objects.filter(pk=second.pk).update(state=ReviewState.CHANGES_REQUESTED)
    assert version_facts() == (True, False)
