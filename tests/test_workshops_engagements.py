"""Creating engagements (from the method's defaults or a copy), their settings and status."""

import datetime

from django.urls import reverse

from escalation.models import (
    AISystem,
    Bound,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Threshold,
)
from tests.factories import make_consultant, make_engagement, make_member
from tests.framework_content import make_bound, make_framework
from workshops.audit import AuditVerb
from workshops.models import (
    Activity,
    Engagement,
    EngagementStatus,
    Membership,
    Role,
)
from workshops.views import engagements

MONDAY = datetime.date(2027, 1, 4)
NEW = {
    "slug": "northwind-2027",
    "client_organisation": "Northwind",
    "title": "Escalation framework 2027",
    "scope_summary": "Claims models.",
    "start_date": "2027-01-04",
    "working_days": "8",
    "timezone": "Europe/Berlin",
    "holidays": "2027-01-06, 2027-01-07",
}


def test_creator_becomes_facilitator_of_the_new_engagement(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("engagement_new"), NEW)
    assert response.status_code == 302
    membership = Membership.objects.get(engagement__slug="northwind-2027")
    assert (membership.user, membership.role) == (outsider, Role.FACILITATOR)


def test_new_engagement_starts_from_the_method_defaults(client, outsider):
    client.force_login(outsider)
    client.post(reverse("engagement_new"), NEW)
    framework = Engagement.objects.get(slug="northwind-2027").framework
    assert EscalationLevel.objects.filter(framework=framework).count() == 6
    assert FailureMode.objects.filter(framework=framework).count() == 5
    assert ExternalTrigger.objects.filter(framework=framework).exists()


def test_new_engagement_keeps_holidays_and_plans_around_them(client, outsider):
    client.force_login(outsider)
    client.post(reverse("engagement_new"), NEW)
    plan = Engagement.objects.get(slug="northwind-2027").plan()
    assert [day.date.isoformat() for day in plan[:3]] == ["2027-01-04", "2027-01-05", "2027-01-08"]


def test_new_engagement_refuses_eleven_days_and_keeps_the_input(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("engagement_new"), {**NEW, "working_days": "11"})
    assert response.status_code == 422
    assert "An engagement runs 5 to 10 working days." in response.content.decode()
    assert not Engagement.objects.filter(slug="northwind-2027").exists()


def test_new_engagement_refuses_a_badly_written_holiday(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("engagement_new"), {**NEW, "holidays": "6 Jan"})
    assert response.status_code == 422
    assert "is not a date" in response.content.decode()


def test_new_engagement_refuses_a_taken_slug(client, engagement, outsider):
    client.force_login(outsider)
    response = client.post(reverse("engagement_new"), {**NEW, "slug": "acme"})
    assert response.status_code == 422
    assert Engagement.objects.filter(slug="acme").count() == 1


def _framework_with_content(engagement):
    framework = engagement.framework
    system = AISystem.objects.create(
        framework=framework, key="claims-bot", name="Claims bot", model_name="gpt", workflow="FNOL"
    )
    threshold = Threshold.objects.create(
        framework=framework,
        key="claims-bot-all",
        ai_system=system,
    )
    level = EscalationLevel.objects.create(framework=framework, key="rag", name="RAG")
    make_bound(threshold, metric_name="groundedness", value="0.8").escalates_to.add(level)
    FailureMode.objects.create(
        framework=framework, key="made-up", name="Made up", recommended_level=level
    )
    return framework


def test_copy_for_the_next_cycle_carries_every_item_over(client, engagement, facilitator):
    _framework_with_content(engagement)
    client.force_login(facilitator)
    client.post(reverse("engagement_new"), {**NEW, "copy_from": engagement.pk})
    copy = Engagement.objects.get(slug="northwind-2027").framework
    level = EscalationLevel.objects.get(framework=copy)
    assert [b.threshold.key for b in level.bounds.all()] == ["claims-bot-all"]
    assert FailureMode.objects.get(framework=copy).recommended_level == level
    assert level.carried_over["name"] == "RAG"


def test_copied_items_are_marked_with_their_previous_document_form(client, engagement, facilitator):
    _framework_with_content(engagement)
    client.force_login(facilitator)
    client.post(reverse("engagement_new"), {**NEW, "copy_from": engagement.pk})
    copy = Engagement.objects.get(slug="northwind-2027").framework
    threshold = Threshold.objects.get(framework=copy)
    assert threshold.carried_over["ai_system"] == "claims-bot"
    assert Bound.objects.get(framework=copy).carried_over["value"] == "0.800000"


def test_only_engagements_i_facilitated_can_be_copied(client, engagement, approver, outsider):
    client.force_login(make_consultant(approver))  # a consultant who approved, not facilitated
    response = client.post(reverse("engagement_new"), {**NEW, "copy_from": engagement.pk})
    assert response.status_code == 422
    assert not Engagement.objects.filter(slug="northwind-2027").exists()


def test_facilitator_changes_settings_and_it_is_recorded(client, engagement, facilitator):
    client.force_login(facilitator)
    data = {**NEW, "working_days": "5"}
    del data["slug"]
    client.post(reverse("engagement_settings", args=["acme"]), data)
    engagement.refresh_from_db()
    assert engagement.working_days == 5
    assert Activity.objects.get(engagement=engagement).changes["working_days"]["after"] == "5"


def test_settings_with_bad_time_zone_change_nothing(client, engagement, facilitator):
    client.force_login(facilitator)
    data = {**NEW, "timezone": "Mars/Olympus"}
    response = client.post(reverse("engagement_settings", args=["acme"]), data)
    assert response.status_code == 422
    engagement.refresh_from_db()
    assert engagement.title == "Escalation framework"


def test_settings_offer_every_time_zone_with_the_engagements_selected(
    client, engagement, facilitator
):
    engagement.timezone = "Pacific/Auckland"
    engagement.save(update_fields=["timezone"])
    client.force_login(facilitator)
    html = client.get(reverse("engagement_settings", args=["acme"])).content.decode()
    assert '<option selected value="Pacific/Auckland">' in html
    assert html.count("<option") > 400 and html.count("<option selected") == 1


def test_facilitator_starts_the_engagement(client, engagement, facilitator):
    client.force_login(facilitator)
    client.post(reverse("engagement_status", args=["acme"]), {"status": "running"})
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.RUNNING


def test_review_is_refused_while_problems_block_it(client, engagement, facilitator):
    engagement.status = EngagementStatus.RUNNING
    engagement.save()
    client.force_login(facilitator)
    response = client.post(
        reverse("engagement_status", args=["acme"]), {"status": "in_review"}, follow=True
    )
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.RUNNING
    assert "Not ready for review" in response.content.decode()


def test_sign_off_needs_an_approved_version(client, engagement, facilitator):
    engagement.status = EngagementStatus.IN_REVIEW
    engagement.save()
    client.force_login(facilitator)
    response = client.post(
        reverse("engagement_status", args=["acme"]), {"status": "signed_off"}, follow=True
    )
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.IN_REVIEW
    assert "Sign-off needs an approved version first." in response.content.decode()


def test_an_archived_engagement_goes_nowhere(client, facilitator, engagement):
    engagement.status = EngagementStatus.ARCHIVED
    engagement.save()
    client.force_login(facilitator)
    client.post(reverse("engagement_status", args=["acme"]), {"status": "running"})
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.ARCHIVED


def test_dashboard_shows_steps_blocking_review_and_people(client, engagement, facilitator):
    make_member(engagement, Role.OBSERVER)
    client.force_login(facilitator)
    html = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "No AI system is in scope yet." in html
    assert "Observer" in html


def test_dashboard_counts_the_people_by_role_and_names_the_first_few(
    client, engagement, facilitator, monkeypatch
):
    monkeypatch.setattr(engagements, "DASHBOARD_MEMBERS", 2)
    for _ in range(3):
        make_member(engagement, Role.OBSERVER)
    client.force_login(facilitator)
    html = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "4 members: 1 facilitator, 3 observers." in html
    names = html[html.index('<ul class="people">') :].split("</ul>")[0]
    assert names.count("<li>") == 2 and "And 2 more." in html


def test_dashboard_day_statuses_use_the_engagement_time_zone(client, facilitator):
    # Far in the past: every unfinished day is behind, wherever the server is.
    past = make_engagement(slug="past", start_date="2020-01-06", timezone="Pacific/Auckland")
    make_member(past, Role.FACILITATOR, facilitator)
    client.force_login(facilitator)
    html = client.get(reverse("dashboard", args=["past"])).content.decode()
    assert html.count('badge badge-behind">behind') == 10


def test_settings_page_fills_the_date_picker_in_iso_format(client, facilitator):
    client.force_login(facilitator)
    html = client.get(reverse("engagement_settings", args=["acme"])).content.decode()
    assert 'type="date" name="start_date" value="2026-11-02"' in html


def test_an_engagement_opened_with_a_framework_keeps_it_as_given(db):
    # The import's way in: the framework read from a file, no method defaults added, and no
    # facilitator when the command line creates it.
    framework = make_framework(name="From a file")
    engagement = Engagement(slug="from-file", client_organisation="Northwind", start_date=MONDAY)
    engagement.open_for(None, framework=framework)
    assert Engagement.objects.get(slug="from-file").framework == framework
    assert not EscalationLevel.objects.filter(framework=framework).exists()
    assert not Membership.objects.filter(engagement=engagement).exists()


def test_the_dashboard_lists_the_days_and_the_latest_activity_in_the_engagements_zone(
    client, engagement, facilitator
):
    engagement.timezone = "Pacific/Auckland"  # UTC+13 in November
    engagement.save(update_fields=["timezone"])
    facilitator.first_name, facilitator.last_name = "<b>Ann</b>", "O'Hara & Co"
    facilitator.save()
    Activity.objects.create(
        engagement=engagement,
        actor=facilitator,
        verb=AuditVerb.UPDATED,
        summary='Renamed "<script>x</script>" \\ back',
        created_at=datetime.datetime(2026, 11, 2, 20, 5, 30, 123456, tzinfo=datetime.UTC),
    )
    client.force_login(facilitator)
    html = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert (
        '<li><time datetime="2026-11-03T09:05:30+13:00">3 Nov 09:05</time> '
        "&lt;b&gt;Ann&lt;/b&gt; O&#x27;Hara &amp; Co: "
        "Renamed &quot;&lt;script&gt;x&lt;/script&gt;&quot; \\ back</li>"
    ) in html
    assert '<td class="nowrap">Mon 2 Nov</td>' in html
    assert f'<td><a href="{reverse("day", args=["acme", 1])}">' in html
