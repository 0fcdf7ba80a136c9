"""Long lists come in pages that say how many there are: the audit trail, the versions, the
discussion of a whole version and the people. Page sizes are shrunk here so a few rows make several pages."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_version
from workshops.audit import AuditVerb, record_activity
from workshops.models import Review
from workshops.views import audit, people, reviews


@pytest.fixture
def small_pages(monkeypatch):
    for module, name in (
        (audit, "AUDIT_PAGE_SIZE"),
        (reviews, "VERSIONS_PAGE_SIZE"),
        (reviews, "THREADS_PAGE_SIZE"),
        (people, "MEMBERS_PAGE_SIZE"),
    ):
        monkeypatch.setattr(module, name, 2)


def _versions(engagement, count):
    framework = engagement.framework
    for number in range(1, count + 1):
        framework.sunset_criteria = f"Revisit after {number} cycles."
        framework.save(update_fields=["sunset_criteria"])
        Review.objects.create(version=make_version(framework, number), engagement=engagement)


def _page(client, user, url, **query):
    client.force_login(user)
    return client.get(url, query).content.decode()


def test_audit_trail_says_how_many_changes_there_are(client, engagement, facilitator, small_pages):
    for number in range(5):
        record_activity(engagement, facilitator, AuditVerb.NOTED, f"Change {number}")
    html = _page(client, facilitator, reverse("audit", args=["acme"]))
    assert "Showing 1–2 of 5 changes" in html


def test_audit_trail_page_links_keep_the_filters(client, engagement, facilitator, small_pages):
    for number in range(5):
        record_activity(engagement, facilitator, AuditVerb.NOTED, f"Change {number}")
    html = _page(client, facilitator, reverse("audit", args=["acme"]), verb="noted", page=2)
    assert "Showing 3–4 of 5 changes" in html
    assert 'href="?verb=noted&amp;page=3"' in html


def test_audit_trail_filters_offer_every_item_and_action_recorded_once_each_in_order(
    client, engagement, facilitator, small_pages
):
    for anchor in ["levels/b", "", "levels/a", "levels/b", "failure-modes/x"]:
        record_activity(engagement, facilitator, AuditVerb.NOTED, "Noted", anchor=anchor)
    record_activity(engagement, facilitator, AuditVerb.CREATED, "Added", anchor="levels/a")
    html = _page(client, facilitator, reverse("audit", args=["acme"]))
    item_filter = html.split('name="item"')[1].split("</select>")[0]
    verb_filter = html.split('name="verb"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"', item_filter) == [
        "",
        "failure-modes/x",
        "levels/a",
        "levels/b",
    ]
    assert re.findall(r'<option value="([^"]*)"', verb_filter) == ["", "created", "noted"]


def test_versions_list_comes_in_pages_newest_first(client, engagement, facilitator, small_pages):
    _versions(engagement, 3)
    html = _page(client, facilitator, reverse("versions", args=["acme"]), page=2)
    assert "Showing 3–3 of 3 versions" in html
    assert ">v1</a>" in html and ">v3</a>" not in html


def test_versions_list_compares_the_draft_with_the_latest_on_every_page(
    client, engagement, facilitator, small_pages
):
    _versions(engagement, 3)
    engagement.framework.sunset_criteria = "Changed since v3."
    engagement.framework.save(update_fields=["sunset_criteria"])
    html = _page(client, facilitator, reverse("versions", args=["acme"]), page=2)
    assert "The working draft has changed since v3" in html


def test_discussion_of_the_whole_version_comes_in_pages(
    client, engagement, facilitator, reviewer, small_pages
):
    _versions(engagement, 1)
    review = Review.objects.get()
    review.submit(facilitator, notify=False)
    for number in range(3):
        review.add_comment(reviewer, f"Thread number {number}")
    html = _page(client, reviewer, reverse("version_detail", args=["acme", 1]), page=2)
    assert "Showing 3–3 of 3 threads" in html
    assert "Thread number 2" in html and "Thread number 0" not in html


def test_the_reply_link_of_a_thread_on_a_later_page_opens_that_page(
    client, engagement, facilitator, reviewer, small_pages
):
    _versions(engagement, 1)
    review = Review.objects.get()
    review.submit(facilitator, notify=False)
    threads = [review.add_comment(reviewer, f"Thread number {number}") for number in range(3)]
    client.force_login(reviewer)
    address = reverse("version_detail", args=["acme", 1])
    html = client.get(address, {"reply": threads[2].pk}).content.decode()
    assert "Showing 3–3 of 3 threads" in html and f'id="reply-{threads[2].pk}"' in html


def test_a_new_thread_is_shown_on_the_last_page(
    client, engagement, facilitator, reviewer, small_pages
):
    _versions(engagement, 1)
    review = Review.objects.get()
    review.submit(facilitator, notify=False)
    for number in range(2):
        review.add_comment(reviewer, f"Thread number {number}")
    client.force_login(reviewer)
    response = client.post(
        reverse("version_comment", args=["acme", 1]), {"body": "A third thread", "item": ""}
    )
    assert response.url.startswith(reverse("version_detail", args=["acme", 1]) + "?page=2#")


def test_people_come_in_pages(client, engagement, facilitator, approver, reviewer, small_pages):
    html = _page(client, facilitator, reverse("people", args=["acme"]), page=2)
    assert "Showing 3–3 of 3 members" in html
