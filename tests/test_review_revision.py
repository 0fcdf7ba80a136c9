"""An engagement's review revision: every write to its reviews moves it, by any path, so what a
version page keeps in the cache under it (the review, its threads, approvals and history) never
shows an earlier state than the database holds, whoever asks."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import SEEDED, make_engagement, make_member, make_user
from tests.framework_content import fill_small_framework
from tests.triggers import tables_watched_by
from workshops.models import (
    Comment,
    CommentResolution,
    Engagement,
    Review,
    ReviewRevision,
    Role,
)
from workshops.plan import Requirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(engagement: Any, facilitator: Any) -> Review:
    fill_small_framework(engagement.framework)
    return engagement.freeze_version(facilitator, "First cut")


def _moves(engagement: Engagement, write: Any) -> bool:
    before = ReviewRevision.of(engagement)
    write()
    return ReviewRevision.of(engagement) != before


def _page(client: Any, user: Any, engagement: Engagement, query: str = "") -> str:
    client.force_login(user)
    url = reverse("version_detail", args=[engagement.slug, 1]) + query
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_every_move_comment_resolution_and_decision_moves_the_revision(
    engagement, facilitator, approver, reviewer, review
):
    assert _moves(engagement, lambda: review.submit(facilitator, notify=False))
    assert _moves(engagement, lambda: review.add_comment(reviewer, "Why 0.8?"))
    comment = review.comments.get()
    assert _moves(engagement, lambda: review.add_comment(facilitator, "Measured.", parent=comment))
    assert _moves(engagement, lambda: comment.resolve(facilitator))
    assert _moves(engagement, lambda: review.approve(approver, authentication=SEEDED))


def test_bulk_and_raw_sql_writes_move_the_revision(engagement, facilitator, reviewer, review):
    write = lambda: Comment.objects.bulk_create([Comment(review=review, author=reviewer, body="x")])  # noqa: E731
    assert _moves(engagement, write)

    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE workshops_review SET signoff_rule = 'all_approvers'")

    assert _moves(engagement, raw)
    resolve = lambda: CommentResolution.objects.bulk_create(  # noqa: E731
        [CommentResolution(comment=Comment.objects.get(), resolved_by=facilitator)]
    )
    assert _moves(engagement, resolve)


def test_writes_to_another_engagements_reviews_leave_the_revision_alone(
    engagement, facilitator, review
):
    other = make_engagement(slug="other", client_organisation="Other Ltd")
    other_facilitator = make_member(other, Role.FACILITATOR, make_user("olga"))
    fill_small_framework(other.framework)
    other_review = other.freeze_version(other_facilitator, "Theirs")
    assert not _moves(engagement, lambda: other_review.add_comment(other_facilitator, "Hm"))


def test_a_new_name_moves_the_revision_where_it_shows_and_nowhere_else(
    engagement, facilitator, reviewer, review
):
    review.add_comment(reviewer, "Why 0.8?")
    reviewer.first_name = "Renamed"
    assert _moves(engagement, reviewer.save)
    stranger = make_user("stan")  # in no engagement, wrote nothing
    stranger.first_name = "Stanley"
    assert not _moves(engagement, stranger.save)
    reviewer.email = "new@example.com"  # not part of any name a page prints
    assert not _moves(engagement, reviewer.save)


def test_every_table_pointing_at_a_review_or_its_comments_moves_the_revision():
    """A table added later that points at a review (or at a comment) is covered too, or this
    fails."""
    watched_models = {Review} | {
        model
        for model in apps.get_app_config("workshops").get_models()
        if any(
            field.is_relation and field.related_model in (Review, Comment)
            for field in model._meta.fields
        )
    }
    watched = tables_watched_by("workshops_review_changed")
    assert {model._meta.db_table for model in watched_models} - watched == set()


def test_the_version_page_shows_a_comment_written_by_any_path_at_once(
    client, engagement, facilitator, reviewer, review
):
    assert "Written behind the app" not in _page(client, facilitator, engagement)
    Comment.objects.bulk_create(  # no model code runs
        [Comment(review=review, author=reviewer, body="Written behind the app")]
    )
    assert "Written behind the app" in _page(client, facilitator, engagement)


def test_the_version_page_shows_a_new_name_at_once(
    client, engagement, facilitator, reviewer, review
):
    review.add_comment(reviewer, "Why 0.8?")
    assert "Rae Renamed" not in _page(client, facilitator, engagement)
    get_user_model().objects.filter(pk=reviewer.pk).update(first_name="Rae", last_name="Renamed")
    assert "Rae Renamed" in _page(client, facilitator, engagement)


def test_the_version_page_shows_a_sign_off_at_once(
    client, engagement, facilitator, approver, review
):
    review.submit(facilitator, notify=False)
    assert 'id="review-state">In review<' in _page(client, facilitator, engagement)
    review.approve(approver, authentication=SEEDED)
    page = _page(client, facilitator, engagement)
    assert 'id="review-state">Approved<' in page
    assert 'id="signed-off">Signed off' in page


def test_what_is_kept_for_everyone_holds_nothing_of_who_asked_first(
    client, engagement, facilitator, approver, observer, review
):
    review.submit(facilitator, notify=False)
    assert 'name="approve-reason"' in _page(client, approver, engagement)  # kept after this
    page = _page(client, observer, engagement)
    assert 'name="approve-reason"' not in page
    assert reverse("version_approve", args=[engagement.slug, 1]) not in page
    assert 'name="approve-reason"' in _page(client, approver, engagement)


def test_the_version_page_reads_its_review_once_per_revision(
    client, engagement, facilitator, reviewer, review
):
    _page(client, facilitator, engagement)
    with CaptureQueriesContext(connection) as seen:
        _page(client, facilitator, engagement)
    review_tables = ('"workshops_review"', '"workshops_comment"', '"workshops_approval"')
    assert not [q for q in seen.captured_queries if any(t in q["sql"] for t in review_tables)]
    review.add_comment(reviewer, "Why 0.8?")
    with CaptureQueriesContext(connection) as seen:
        assert "Why 0.8?" in _page(client, facilitator, engagement)
    assert [q for q in seen.captured_queries if '"workshops_comment"' in q["sql"]]


def test_the_people_page_shows_a_reviews_terms_from_its_submission_to_its_withdrawal(
    client, engagement, facilitator, approver, review
):
    client.force_login(facilitator)
    url = reverse("people", args=[engagement.slug])
    assert 'id="open-review-terms"' not in client.get(url).content.decode()
    review.submit(facilitator, notify=False)
    terms = client.get(url).content.decode()
    assert 'id="open-review-terms">v1 is in review.' in terms
    assert approver.email in terms
    review.withdraw(facilitator)
    assert 'id="open-review-terms"' not in client.get(url).content.decode()


def test_the_dashboard_follows_each_persons_next_review_actions(
    client, engagement, facilitator, approver, reviewer, review
):
    def dashboard(user: Any) -> str:
        client.force_login(user)
        return client.get(reverse("dashboard", args=[engagement.slug])).content.decode()

    review.submit(facilitator, notify=False)
    assert "v1 awaits your approval." in dashboard(approver)
    assert "to answer on v1" not in dashboard(facilitator)
    review.add_comment(reviewer, "Why 0.8?")
    assert "1 comment to answer on v1." in dashboard(facilitator)
    assert "to answer on v1" not in dashboard(approver)  # approvers answer no comments
    review.approve(approver, authentication=SEEDED)
    assert "v1 awaits your approval." not in dashboard(approver)


def test_the_day_that_asks_for_a_review_sees_the_submission_at_once(
    client, engagement, facilitator, review
):
    day = next(d for d in engagement.plan() if Requirement.VERSION_IN_REVIEW in d.requires)
    url = reverse("day", args=[engagement.slug, day.number])
    client.force_login(facilitator)
    asks = "Send a frozen version to the approvers for review."
    assert asks in client.get(url).content.decode()
    review.submit(facilitator, notify=False)
    assert asks not in client.get(url).content.decode()


def test_the_artifacts_version_switcher_follows_each_versions_review(
    client, engagement, facilitator, approver, review
):
    client.force_login(facilitator)
    url = reverse("artifacts", args=[engagement.slug])

    def switcher() -> str:
        return client.get(url).content.decode()

    assert "v1 (frozen, not in review)" in switcher()
    review.submit(facilitator, notify=False)
    assert "v1 (in review)" in switcher()
    review.approve(approver, authentication=SEEDED)
    assert "v1 (signed off)" in switcher()


def test_the_versions_list_counts_a_new_thread_at_once(
    client, engagement, facilitator, reviewer, review
):
    client.force_login(facilitator)
    url = reverse("versions", args=[engagement.slug])
    assert [row.review.open_threads for row in client.get(url).context["rows"]] == [0]
    review.submit(facilitator, notify=False)
    review.add_comment(reviewer, "Why 0.8?")
    assert [row.review.open_threads for row in client.get(url).context["rows"]] == [1]
