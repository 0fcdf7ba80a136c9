"""The pages that guide each role to its next step: where the signed pack is, what to do next,
and a frozen version that never reads as a draft."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from escalation.document import build_document
from tests.factories import SEEDED, make_member, make_user, make_version, sign_off
from tests.framework_content import make_bound, make_framework_content
from workshops.models import Role
from workshops.views import engagements

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_version(engagement: Any, approver: Any) -> Any:
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    sign_off(engagement, version, [approver])
    return version


def test_client_roles_land_on_the_latest_signed_off_artifacts(client, observer, signed_version):
    client.force_login(observer)
    response = client.get(reverse("artifacts", args=["acme"]))
    assert response.url == reverse("version_artifacts", args=["acme", 1])


def test_client_roles_can_still_choose_the_working_draft(client, observer, signed_version):
    client.force_login(observer)
    response = client.get(reverse("artifacts", args=["acme"]) + "?show=draft")
    assert response.status_code == 200 and b"Working draft" in response.content


def test_facilitators_land_on_the_working_draft_with_a_switcher(
    client, facilitator, signed_version
):
    client.force_login(facilitator)
    page = client.get(reverse("artifacts", args=["acme"])).content.decode()
    assert 'aria-current="page">Working draft</a>' in page
    assert reverse("version_artifacts", args=["acme", 1]) in page


def test_a_versions_pack_page_marks_it_in_the_switcher_with_its_state(
    client, facilitator, signed_version
):
    client.force_login(facilitator)
    pack_url = reverse("version_pack", args=["acme", 1])
    page = client.get(pack_url).content.decode()
    assert f'<a href="{pack_url}" aria-current="page">v1 (signed off)</a>' in page


def test_the_versions_list_links_each_version_to_its_artifacts_and_pack(
    client, observer, signed_version
):
    client.force_login(observer)
    page = client.get(reverse("versions", args=["acme"])).content.decode()
    assert reverse("version_artifacts", args=["acme", 1]) in page
    assert reverse("version_pack", args=["acme", 1]) in page


def test_the_version_page_links_to_its_signed_pack(client, approver, signed_version):
    client.force_login(approver)
    page = client.get(reverse("version_detail", args=["acme", 1])).content.decode()
    assert "Signed PDF pack of v1" in page
    assert reverse("version_pack", args=["acme", 1]) in page


def test_a_frozen_version_is_never_badged_draft(client, facilitator, engagement):
    make_framework_content(engagement.framework)
    engagement.freeze_version(facilitator, "First cut")
    client.force_login(facilitator)
    for address in (
        reverse("version_detail", args=["acme", 1]),
        reverse("versions", args=["acme"]),
    ):
        page = client.get(address).content.decode()
        assert ">Draft<" not in page and "Frozen, not in review" in page


def submitted_version(engagement: Any, facilitator: Any) -> Any:
    make_framework_content(engagement.framework)
    review = engagement.freeze_version(facilitator, "First cut")
    review.submit(facilitator)
    return review


def test_the_approvers_dashboard_leads_with_the_version_awaiting_approval(
    client, engagement, facilitator, approver
):
    submitted_version(engagement, facilitator)
    client.force_login(approver)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "v1 awaits your approval." in page
    assert "ready to be frozen" not in page and "What still blocks review" not in page


def test_an_approver_who_approved_is_no_longer_asked_to(client, engagement, facilitator, approver):
    make_member(engagement, Role.APPROVER)  # whose approval the version still waits for
    review = submitted_version(engagement, facilitator)
    review.approve(approver, authentication=SEEDED)
    client.force_login(approver)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "awaits your approval" not in page


def test_the_facilitators_dashboard_counts_the_comments_to_answer(
    client, engagement, facilitator, approver
):
    review = submitted_version(engagement, facilitator)
    for text in ["Too low.", "Who owns this?", "Typo."]:
        review.add_comment(approver, text, "", None)
    client.force_login(facilitator)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "3 comments to answer on v1." in page


def test_replies_and_resolved_threads_are_not_comments_to_answer(
    client, engagement, facilitator, approver
):
    review = submitted_version(engagement, facilitator)
    first, second, _third = (review.add_comment(approver, text) for text in ["A.", "B.", "C."])
    review.add_comment(facilitator, "Answered.", "", first)
    second.resolve(approver)
    client.force_login(facilitator)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "2 comments to answer on v1." in page


def test_every_dashboard_offers_the_signed_pack_once_signed_off(client, observer, signed_version):
    client.force_login(observer)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "v1 is signed off: download the signed pack." in page
    assert reverse("version_pack", args=["acme", 1]) in page


def test_freezing_is_not_offered_when_the_draft_equals_the_last_version(
    client, engagement, facilitator
):
    make_framework_content(engagement.framework)
    engagement.freeze_version(facilitator, "First cut")
    client.force_login(facilitator)
    page = client.get(reverse("versions", args=["acme"])).content.decode()
    assert "Freeze as a new version" not in page and "Nothing changed since v1" in page


def day_page(client: Any, engagement: Any, requirement: str) -> str:
    number = next(day.number for day in engagement.plan() if requirement in day.requires)
    return client.get(reverse("day", args=["acme", number])).content.decode()


def test_the_documentation_day_offers_the_checks_and_the_freeze(client, engagement, facilitator):
    client.force_login(facilitator)
    page = day_page(client, engagement, "version_frozen")
    assert f'href="{reverse("checks", args=["acme"])}">Run the consistency checks' in page
    assert f'href="{reverse("versions", args=["acme"])}#freeze-heading">Freeze a version' in page


def test_the_alignment_day_sends_the_frozen_version_for_review(client, engagement, facilitator):
    make_framework_content(engagement.framework)
    engagement.freeze_version(facilitator, "First cut")
    client.force_login(facilitator)
    page = day_page(client, engagement, "version_in_review")
    assert "Send v1 for review" in page and "nothing new to freeze" in page


def test_each_missing_item_links_to_where_it_is_done(client, engagement, facilitator):
    client.force_login(facilitator)
    page = client.get(reverse("day", args=["acme", 1])).content.decode()
    assert '<a href="#notes-heading">Record who attended.</a>' in page
    assert '<a href="#step-systems-heading">' in page


# A new engagement


def new_engagement_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "client_organisation": "Borealis Bank",
        "title": "Model escalation 2027",
        "scope_summary": "Two assistants.",
        "start_date": "2027-03-01",
        "working_days": "10",
        "timezone": "Europe/Oslo",
        "holidays": "",
    }
    return data | overrides


def test_a_new_engagement_defaults_to_the_sites_zone_and_next_monday(client, facilitator):
    client.force_login(facilitator)
    form = client.get(reverse("engagement_new")).context["form"]
    assert form["timezone"].value() == "UTC"
    assert form["start_date"].value().weekday() == 0


def test_a_blank_slug_is_made_from_the_title(client, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("engagement_new"), new_engagement_data())
    assert response.url == reverse("dashboard", args=["model-escalation-2027"])


def test_a_weekend_start_is_stored_as_the_monday_day_one_falls_on(client, facilitator):
    client.force_login(facilitator)
    data = new_engagement_data(slug="borealis", start_date="2027-02-27")  # a Saturday
    response = client.post(reverse("engagement_new"), data, follow=True)
    assert response.context["engagement"].start_date.isoformat() == "2027-03-01"
    assert "Day 1 moves to Monday 1 March 2027" in response.content.decode()


def test_a_length_of_zero_is_refused_by_the_rule_the_browser_is_given(client, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("engagement_new"), new_engagement_data(working_days="0"))
    assert "An engagement runs 5 to 10 working days." in response.content.decode()
    assert 'min="5"' in response.content.decode() and 'max="10"' in response.content.decode()


# Edit forms say what they edit


def test_saving_the_scope_creep_rule_confirms_saved(client, engagement, facilitator):
    client.force_login(facilitator)
    url = reverse("step_settings", args=["acme", "governance"])
    data = {
        "currency": "EUR",
        "scope_creep_rule": "One level at a time.",
        "overrun_rule": "Stop and ask.",
        "row_version": "1",
    }
    html = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="saved" role="status">Saved.</span>' in html


def test_the_edit_form_names_the_row_it_edits(client, engagement, facilitator):
    make_framework_content(engagement.framework)
    level = engagement.framework.levels.first()
    client.force_login(facilitator)
    url = reverse("step", args=["acme", "ladder"]) + f"?edit=levels:{level.key}"
    assert f"Editing level “{level}”" in client.get(url).content.decode()


def test_the_levels_a_bound_escalates_to_are_checkboxes(client, engagement, facilitator):
    make_framework_content(engagement.framework)
    threshold = engagement.framework.thresholds.first()
    bound = make_bound(threshold)
    client.force_login(facilitator)
    url = reverse("step", args=["acme", "thresholds"]) + f"?edit=bounds:{bound.key}"
    html = client.get(url).content.decode()
    assert 'type="checkbox" name="escalates_to"' in html and "<select multiple" not in html


def test_removing_a_member_asks_first_naming_the_person(client, engagement, facilitator):
    make_member(engagement, Role.REVIEWER, make_user("rob", first_name="Rob", last_name="Reyes"))
    client.force_login(facilitator)
    html = client.get(reverse("people", args=["acme"])).content.decode()
    assert 'data-confirm="Remove Rob Reyes from' in html


def test_a_step_under_100_percent_says_what_is_missing(client, engagement, facilitator):
    engagement.framework.ai_systems.create(name="Claims bot", key="claims-bot", model_name="x")
    client.force_login(facilitator)
    html = client.get(reverse("step", args=["acme", "systems"])).content.decode()
    assert "Claims bot: no workflow / use case and no business owner and no output types." in html


# Import errors in the uploader's words


def upload_text(text: str) -> Any:
    return SimpleUploadedFile("framework.json", text.encode(), content_type="application/json")


def import_errors(client: Any, facilitator: Any, text: str) -> str:
    client.force_login(facilitator)
    return client.post(reverse("import_framework"), {"file": upload_text(text)}).content.decode()


def test_an_upload_that_is_not_json_says_so(client, facilitator):
    html = import_errors(client, facilitator, "name,vendor\nbot,x")
    assert "This is not a JSON file, or it is damaged." in html
    assert '<small class="muted">(file: not valid JSON' in html


def test_an_upload_without_ai_systems_says_the_file_has_no_ai_systems_list(
    client, engagement, facilitator
):
    document = build_document(engagement.framework)
    del document["ai_systems"]
    html = import_errors(client, facilitator, json.dumps(document))
    assert "The file has no AI systems list." in html


def test_an_upload_from_a_newer_version_says_so_first(client, engagement, facilitator):
    document = build_document(engagement.framework) | {"schema_version": 99}
    html = import_errors(client, facilitator, json.dumps(document))
    assert "This is a framework file from a newer version of Escalation Workshop" in html


def reviewed_versions(engagement: Any, facilitator: Any, approver: Any, count: int) -> None:
    """`count` versions sent back with changes requested, each with one comment left to
    answer (newest: v`count`)."""
    make_framework_content(engagement.framework)
    send_back_versions(engagement, facilitator, approver, range(1, count + 1))


def send_back_versions(engagement: Any, facilitator: Any, approver: Any, numbers: range) -> None:
    for number in numbers:
        engagement.framework.sunset_criteria = f"Revisit after {number} cycles."
        engagement.framework.save(update_fields=["sunset_criteria"])
        review = engagement.freeze_version(facilitator, f"Round {number}")
        review.submit(facilitator, notify=False)
        review.add_comment(approver, "Is this the number we agreed?")
        review.request_changes(approver, "See my comment.", authentication=SEEDED)


def test_the_dashboard_shows_the_first_next_actions_and_links_to_the_rest(
    client, engagement, facilitator, approver
):
    reviewed_versions(engagement, facilitator, approver, 7)
    client.force_login(facilitator)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "1 comment to answer on v7." in page and "on v3." in page and "on v2." not in page
    assert f'<a href="{reverse("next_actions", args=["acme"])}">And 3 more: see all 8</a>' in page


def test_the_signed_pack_stays_on_the_dashboard_however_many_actions_come_first(
    client, engagement, facilitator, approver
):
    reviewed_versions(engagement, facilitator, approver, 6)
    engagement.framework.sunset_criteria = "Revisit yearly."
    engagement.framework.save(update_fields=["sunset_criteria"])
    review = engagement.freeze_version(facilitator, "Agreed")
    review.submit(facilitator, notify=False)
    review.approve(approver, authentication=SEEDED)  # v7 signed off: v1-v6 superseded
    send_back_versions(engagement, facilitator, approver, range(8, 15))  # each asks again
    client.force_login(facilitator)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "on v10." in page and "on v9." not in page  # the first five, newest first
    assert "v7 is signed off: download the signed pack." in page
    assert reverse("version_pack", args=["acme", 7]) in page
    assert "more: see all" in page


def test_the_next_actions_page_lists_them_all_and_says_how_many(
    client, engagement, facilitator, approver
):
    reviewed_versions(engagement, facilitator, approver, 7)
    client.force_login(facilitator)
    page = client.get(reverse("next_actions", args=["acme"])).content.decode()
    assert "Showing 1–8 of 8 next actions" in page
    assert "1 comment to answer on v1." in page and "Changes were requested on v7" in page


def test_the_next_actions_page_pages_a_long_list(
    client, engagement, facilitator, approver, monkeypatch
):
    monkeypatch.setattr(engagements, "NEXT_ACTIONS_PAGE_SIZE", 2)
    reviewed_versions(engagement, facilitator, approver, 3)
    client.force_login(facilitator)
    page = client.get(reverse("next_actions", args=["acme"]), {"page": 2}).content.decode()
    assert "Showing 3–4 of 4 next actions" in page and "1 comment to answer on v1." in page
    assert "on v3." not in page and 'class="button primary"' not in page


def test_a_superseded_version_asks_nothing_more_of_anyone(
    client, engagement, facilitator, approver
):
    reviewed_versions(engagement, facilitator, approver, 1)  # v1: a comment left to answer
    engagement.framework.sunset_criteria = "Revisit yearly."
    engagement.framework.save(update_fields=["sunset_criteria"])
    review = engagement.freeze_version(facilitator, "Second cut")
    review.submit(facilitator, notify=False)
    review.approve(approver, authentication=SEEDED)  # signs v2 off: v1 is superseded
    client.force_login(facilitator)
    page = client.get(reverse("dashboard", args=["acme"])).content.decode()
    assert "to answer on v1" not in page and "v2 is signed off" in page
