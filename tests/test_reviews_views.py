"""The versions, review and audit pages: the checklist for every view, and constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import dateformat, timezone

from escalation.models import EscalationLevel, FrameworkVersion
from tests.factories import SEEDED
from tests.framework_content import fill_small_framework
from workshops.audit import AuditVerb, record_activity
from workshops.models import Comment, ReviewState
from workshops.people import display_name


@pytest.fixture
def content(engagement):
    return fill_small_framework(engagement.framework)


@pytest.fixture
def review(engagement, facilitator, content):
    return engagement.freeze_version(facilitator, "First cut")


def url(name, engagement, *args):
    return reverse(name, args=[engagement.slug, *args])


def logged_in(client, user):
    client.force_login(user)
    return client


# The versions list and freezing


def test_versions_list_shows_each_version(client, engagement, observer, review):
    response = logged_in(client, observer).get(url("versions", engagement))
    assert response.status_code == 200
    assert "First cut" in response.content.decode()


def test_versions_list_counts_each_versions_open_threads(
    client, engagement, facilitator, reviewer, review
):
    review.submit(facilitator)
    open_thread = review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    review.add_comment(facilitator, "Budget cap", parent=open_thread)  # a reply: no new thread
    review.add_comment(reviewer, "Typo on day 2").resolve(facilitator)
    response = logged_in(client, facilitator).get(url("versions", engagement))
    assert [row.review.open_threads for row in response.context["rows"]] == [1]


def test_versions_list_shows_a_sign_off_made_after_its_rows_were_printed(
    client, engagement, facilitator, approver, review
):
    # A version's row prints once (workshops.views.reviews.PrintedVersionRow); its state and
    # its pack's name move with the review.
    page = url("versions", engagement)
    assert ">Pack<" in logged_in(client, facilitator).get(page).content.decode()
    review.submit(facilitator, notify=False)
    review.approve(approver, authentication=SEEDED)
    shown = client.get(page).content.decode()
    assert ">Signed pack<" in shown and ">Signed off</span>" in shown


def test_versions_list_is_hidden_from_outsiders(client, engagement, outsider, review):
    assert logged_in(client, outsider).get(url("versions", engagement)).status_code == 404


def test_versions_list_refuses_post(client, engagement, observer):
    assert logged_in(client, observer).post(url("versions", engagement)).status_code == 405


def test_facilitator_freezes_the_draft(client, engagement, facilitator, content):
    response = logged_in(client, facilitator).post(
        url("version_freeze", engagement), {"summary": "Ready for Monday"}
    )
    assert response.status_code == 302
    assert (
        FrameworkVersion.objects.get(framework=engagement.framework).summary == "Ready for Monday"
    )


def test_approver_cannot_freeze(client, engagement, approver, content):
    response = logged_in(client, approver).post(url("version_freeze", engagement), {"summary": "x"})
    assert response.status_code == 403


def test_freeze_refuses_get(client, engagement, facilitator):
    assert logged_in(client, facilitator).get(url("version_freeze", engagement)).status_code == 405


def test_freeze_without_a_summary_says_so_and_freezes_nothing(client, engagement, facilitator):
    response = logged_in(client, facilitator).post(
        url("version_freeze", engagement), {"summary": ""}
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not FrameworkVersion.objects.exists()


def test_freezing_an_unchanged_draft_says_nothing_changed(client, engagement, facilitator, review):
    response = logged_in(client, facilitator).post(
        url("version_freeze", engagement), {"summary": "x"}
    )
    assert response.status_code == 422
    assert "Nothing changed since v1" in response.content.decode()


# The version page


def test_version_page_renders_from_its_snapshot(client, engagement, reviewer, review):
    EscalationLevel.objects.filter(key="fine-tuning").update(name="Renamed after freezing")
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert "Fine-tuning" in html
    assert "Renamed after freezing" not in html


def test_version_page_of_a_missing_version_is_404(client, engagement, reviewer, review):
    assert logged_in(client, reviewer).get(url("version_detail", engagement, 9)).status_code == 404


def test_version_page_is_hidden_from_outsiders(client, engagement, outsider, review):
    assert logged_in(client, outsider).get(url("version_detail", engagement, 1)).status_code == 404


def _signed_off_then_changed(engagement, facilitator, approver, review):
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=55000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    second.submit(facilitator)
    return second


def test_next_review_shows_what_changed_since_the_signed_off_version(
    client, engagement, facilitator, approver, review
):
    _signed_off_then_changed(engagement, facilitator, approver, review)
    html = logged_in(client, approver).get(url("version_detail", engagement, 2)).content.decode()
    assert "What changed since v1 (signed off)" in html
    assert "40000.00" in html and "55000.00" in html
    assert "Changed since v1: approve again" in html


def test_a_later_version_is_compared_with_the_last_signed_off_not_the_one_before(
    client, engagement, facilitator, approver, review
):
    second = _signed_off_then_changed(engagement, facilitator, approver, review)
    second.request_changes(approver, "Lower it again", authentication=SEEDED)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=50000)
    engagement.freeze_version(facilitator, "Lower ceiling")
    html = logged_in(client, approver).get(url("version_detail", engagement, 3)).content.decode()
    assert "What changed since v1 (signed off)" in html


def test_a_version_without_a_signed_off_one_before_is_compared_with_the_one_before(
    client, engagement, facilitator, approver, review
):
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=55000)
    engagement.freeze_version(facilitator, "Higher ceiling")
    html = logged_in(client, approver).get(url("version_detail", engagement, 2)).content.decode()
    assert "What changed since v1 (draft)" in html


def test_reviewer_sees_no_approve_button(client, engagement, facilitator, reviewer, review):
    review.submit(facilitator)
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert "Approve v1" not in html and "Request changes" not in html


def test_approver_sees_the_approve_button(client, engagement, facilitator, approver, review):
    review.submit(facilitator)
    html = logged_in(client, approver).get(url("version_detail", engagement, 1)).content.decode()
    assert "Approve v1" in html


# Moves


def test_forged_approve_by_a_reviewer_is_403(client, engagement, facilitator, reviewer, review):
    review.submit(facilitator)
    response = logged_in(client, reviewer).post(url("version_approve", engagement, 1))
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.state == ReviewState.IN_REVIEW


def test_approver_approves_and_the_version_is_signed_off(
    client, engagement, facilitator, approver, review
):
    review.submit(facilitator)
    response = logged_in(client, approver).post(url("version_approve", engagement, 1), follow=True)
    assert "v1 is signed off." in response.content.decode()
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_approve_refuses_get(client, engagement, approver, review):
    assert logged_in(client, approver).get(url("version_approve", engagement, 1)).status_code == 405


def test_an_illegal_move_is_a_message_not_an_error(client, engagement, approver, review):
    response = logged_in(client, approver).post(url("version_approve", engagement, 1), follow=True)
    assert "v1 has not been submitted for review." in response.content.decode()


def test_request_changes_without_a_reason_keeps_the_state(
    client, engagement, facilitator, approver, review
):
    review.submit(facilitator)
    response = logged_in(client, approver).post(
        url("version_request_changes", engagement, 1), {"changes-reason": ""}
    )
    assert response.status_code == 422
    assert "a reason is required" in response.content.decode()
    review.refresh_from_db()
    assert review.state == ReviewState.IN_REVIEW


def test_facilitator_submits(client, engagement, facilitator, review):
    response = logged_in(client, facilitator).post(url("version_submit", engagement, 1))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.IN_REVIEW


def test_reviewer_cannot_submit(client, engagement, reviewer, review):
    assert logged_in(client, reviewer).post(url("version_submit", engagement, 1)).status_code == 403


@override_settings(
    MAILERS={
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
)
@pytest.mark.django_db(transaction=True)
def test_submit_answers_normally_when_the_mail_server_is_unreachable(
    engagement, facilitator, reviewer, client
):
    # The page only queues the emails (after commit); the worker sends them and retries.
    fill_small_framework(engagement.framework)
    engagement.freeze_version(facilitator, "First cut")
    response = logged_in(client, facilitator).post(
        url("version_submit", engagement, 1), follow=True
    )
    html = response.content.decode()
    assert (response.status_code, "Submitted v1 for review" in html) == (200, True)
    assert "In review" in html


def test_facilitator_withdraws(client, engagement, facilitator, review):
    review.submit(facilitator)
    logged_in(client, facilitator).post(
        url("version_withdraw", engagement, 1), {"withdraw-reason": "Typo"}
    )
    review.refresh_from_db()
    assert review.state == ReviewState.DRAFT


# Comments


def test_reviewer_comments_on_an_item(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).post(
        url("version_comment", engagement, 1), {"body": "Why 40k?", "item": "levels/fine-tuning"}
    )
    assert response.status_code == 302
    assert review.comments.get().anchor == "levels/fine-tuning"


def test_observer_cannot_comment(client, engagement, observer, review):
    response = logged_in(client, observer).post(
        url("version_comment", engagement, 1), {"body": "Hi"}
    )
    assert response.status_code == 403


def test_empty_comment_says_so_and_saves_nothing(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).post(url("version_comment", engagement, 1), {"body": ""})
    assert response.status_code == 422
    assert "Write a comment first." in response.content.decode()
    assert not review.comments.exists()


def test_comment_on_an_unknown_item_says_so(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).post(
        url("version_comment", engagement, 1), {"body": "Hm", "item": "levels/nope"}
    )
    assert response.status_code == 422
    assert "v1 has no item levels/nope" in response.content.decode()


def test_reply_and_resolve_a_thread(client, engagement, reviewer, facilitator, review):
    thread = review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    logged_in(client, facilitator).post(
        url("version_comment", engagement, 1), {"body": "Budget cap", "parent": thread.pk}
    )
    client.post(url("comment_resolve", engagement, 1, thread.pk))
    thread.refresh_from_db()
    assert (thread.replies.count(), thread.resolved_at is not None) == (1, True)


# Compare


def test_compare_a_version_with_the_working_draft(client, engagement, reviewer, review):
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=55000)
    response = logged_in(client, reviewer).get(
        url("version_compare", engagement), {"a": "1", "b": "draft"}
    )
    html = response.content.decode()
    assert "Cost ceiling" in html and "55000.00" in html


def test_compare_the_same_side_twice_says_so(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).get(
        url("version_compare", engagement), {"a": "1", "b": "1"}
    )
    assert response.status_code == 422
    assert "Pick two different sides" in response.content.decode()


def test_compare_an_unknown_version_says_so(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).get(
        url("version_compare", engagement), {"a": "7", "b": "draft"}
    )
    assert response.status_code == 422


def test_compare_is_hidden_from_outsiders(client, engagement, outsider):
    assert logged_in(client, outsider).get(url("version_compare", engagement)).status_code == 404


# Audit trail


def test_audit_trail_lists_review_actions(client, engagement, facilitator, observer, review):
    review.submit(facilitator)
    html = logged_in(client, observer).get(url("audit", engagement)).content.decode()
    assert "v1 submitted for review" in html


def test_audit_trail_filters_by_item(client, engagement, facilitator, reviewer, review):
    review.add_comment(reviewer, "About fine-tuning", anchor="levels/fine-tuning")
    review.add_comment(reviewer, "About the whole thing")
    response = logged_in(client, facilitator).get(
        url("audit", engagement), {"item": "levels/fine-tuning"}
    )
    assert [a.anchor for a in response.context["page"].object_list] == ["levels/fine-tuning"]


def test_audit_trail_filters_by_person_and_verb(client, engagement, facilitator, reviewer, review):
    review.submit(facilitator)
    review.add_comment(reviewer, "Hm")
    response = logged_in(client, facilitator).get(
        url("audit", engagement), {"person": reviewer.username, "verb": "review.comment"}
    )
    assert [a.actor for a in response.context["page"].object_list] == [reviewer]


def test_audit_trail_offers_each_verb_it_holds_once_in_order(
    client, engagement, facilitator, reviewer, review
):
    review.add_comment(reviewer, "One")
    review.add_comment(reviewer, "Two")
    review.submit(facilitator)
    response = logged_in(client, facilitator).get(url("audit", engagement))
    assert response.context["verbs"] == ["review.comment", "review.submit", "version.freeze"]


def test_audit_trail_marks_the_chosen_person_and_escapes_names(
    client, engagement, facilitator, reviewer
):
    reviewer.first_name, reviewer.last_name = "<b>Ann</b>", "O'Neil"
    reviewer.save()
    html = (
        logged_in(client, facilitator)
        .get(url("audit", engagement), {"person": reviewer.username})
        .content.decode()
    )
    assert (
        f'<option value="{reviewer.username}" selected>&lt;b&gt;Ann&lt;/b&gt; O&#x27;Neil<' in html
    )


def test_audit_trail_prints_each_change_escaped_and_its_time_as_djangos_date_filter(
    client, engagement, facilitator, reviewer
):
    hostile = "a\" <script>&amp;\\ '\n"
    reviewer.first_name, reviewer.last_name = "<b>Ann</b>", ""
    reviewer.save()
    activity = record_activity(
        engagement,
        reviewer,
        AuditVerb.UPDATED,
        f"Changed {hostile}",
        anchor='levels/a b"<&>',
        changes={
            hostile: {"before": None, "after": ""},
            "value": {"before": 1.5, "after": 1e-7},
            "notes": {"before": {"k": hostile}, "after": hostile},
            "count": {"before": 0, "after": True},
            "odd": "not a change",
        },
    )
    when = dateformat.format(timezone.localtime(activity.created_at), "j M Y, H:i:s")  # Django's
    html = logged_in(client, facilitator).get(url("audit", engagement)).content.decode()
    escaped = "a&quot; &lt;script&gt;&amp;amp;\\ &#x27;\n"
    assert (
        f'<td class="nowrap">{when}</td>\n'
        "      <td>&lt;b&gt;Ann&lt;/b&gt;</td>\n"
        f'      <td>Changed {escaped}<br><span class="muted">{AuditVerb.UPDATED}</span></td>\n'
        '      <td><a href="?item=levels/a%20b%22%3C%26%3E">levels/a b&quot;&lt;&amp;&gt;</a></td>\n'
        '      <td class="audit-changes">'  # in the order jsonb keeps keys: shortest first
        "<div><strong>odd</strong>: — → —</div>"
        "<div><strong>count</strong>: 0 → True</div>"
        f"<div><strong>notes</strong>: {{&#x27;k&#x27;: &#x27;a&quot; &lt;script&gt;&amp;amp;"
        f"\\\\ \\&#x27;\\n&#x27;}} → {escaped}</div>"
        "<div><strong>value</strong>: 1.5 → 0.0000001</div>"
        f"<div><strong>{escaped}</strong>: — → —</div></td>"
    ) in html


def test_audit_trail_is_hidden_from_outsiders(client, engagement, outsider):
    assert logged_in(client, outsider).get(url("audit", engagement)).status_code == 404


def test_audit_trail_refuses_post(client, engagement, observer):
    assert logged_in(client, observer).post(url("audit", engagement)).status_code == 405


# Constant query counts


def _queries(client, address):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def _grow(engagement, facilitator, approver, reviewer, rounds, start=0):
    """More versions (each signed off, then changed), comments, replies and activity."""
    for number in range(start, start + rounds):
        EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=60000 + number)
        review = engagement.freeze_version(facilitator, f"Round {number}")
        review.submit(facilitator)
        for _ in range(3):
            thread = review.add_comment(reviewer, "Why?", anchor="levels/fine-tuning")
            review.add_comment(approver, "Because", parent=thread)
            review.add_comment(reviewer, "On the whole version")
        review.approve(approver, authentication=SEEDED)


@pytest.mark.parametrize("page_name", ["version_detail", "version_compare", "versions", "audit"])
def test_pages_keep_a_constant_query_count(
    client, engagement, facilitator, approver, reviewer, review, page_name
):
    # Per page: session and user, the membership, then a fixed set per page (the version and its
    # baseline, all comments at once, approvals, events, the sign-off approvers; or the two
    # documents compared; or the reviews list and the draft's document; or one page of activity
    # and the three filter lists), whatever the number of versions and comments.
    logged_in(client, approver)
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    _grow(engagement, facilitator, approver, reviewer, 1)
    latest = FrameworkVersion.objects.order_by("-number").first().number
    address = (
        url(page_name, engagement, latest)
        if page_name == "version_detail"
        else url(page_name, engagement)
    )
    few = _queries(client, address)
    _grow(engagement, facilitator, approver, reviewer, 4, start=1)
    latest = FrameworkVersion.objects.order_by("-number").first().number
    address = (
        url(page_name, engagement, latest)
        if page_name == "version_detail"
        else url(page_name, engagement)
    )
    assert _queries(client, address) == few


def test_request_changes_records_the_reason(client, engagement, facilitator, approver, review):
    review.submit(facilitator)
    logged_in(client, approver).post(
        url("version_request_changes", engagement, 1), {"changes-reason": "Raise the ceiling"}
    )
    assert review.approvals.get().reason == "Raise the ceiling"


def test_htmx_comment_returns_the_items_discussion(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).post(
        url("version_comment", engagement, 1),
        {"body": "Why 40k?", "item": "levels/fine-tuning"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html and "Why 40k?" in html
    assert "Comment on Fine-tuning" in html


def test_htmx_empty_comment_keeps_the_form_with_its_message(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).post(
        url("version_comment", engagement, 1),
        {"body": "", "item": "levels/fine-tuning"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "Write a comment first." in response.content.decode()


# One comment form open on a version page: each item has a link that opens its own


def test_an_items_comment_form_opens_from_a_link(client, engagement, reviewer, review):
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert "?comment=levels/fine-tuning#discussion-item-levels-fine-tuning" in html
    assert 'id="comment-item-levels-fine-tuning"' not in html  # no form printed for it yet
    assert 'id="comment-version"' in html  # the whole version's form is always there


def test_following_the_comment_link_prints_that_items_form_open(
    client, engagement, reviewer, review
):
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1), {"comment": "levels/fine-tuning"}
    )
    html = response.content.decode()
    assert (
        '<textarea id="comment-item-levels-fine-tuning" name="body" rows="3" required autofocus>'
        in html
    )


def test_htmx_fetches_just_that_items_discussion_with_its_form(
    client, engagement, reviewer, review
):
    review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1),
        {"comment": "levels/fine-tuning"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html and "Why 40k?" in html
    assert 'id="comment-item-levels-fine-tuning"' in html
    assert "HX-Request" in response["Vary"]  # the page and the fragment share one address


def test_htmx_asking_for_the_form_of_an_unknown_item_is_404(client, engagement, reviewer, review):
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1),
        {"comment": "levels/nope"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404


def test_an_unknown_item_in_the_comment_link_shows_the_page_without_an_item_form(
    client, engagement, reviewer, review
):
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1), {"comment": "levels/nope"}
    )
    assert response.status_code == 200
    assert "autofocus" not in response.content.decode()


def test_who_may_not_comment_gets_no_comment_links(
    client, engagement, facilitator, observer, review
):
    html = logged_in(client, observer).get(url("version_detail", engagement, 1)).content.decode()
    assert "Comment on Fine-tuning" not in html


def test_the_contents_count_a_new_comment_on_a_page_printed_before(
    client, engagement, reviewer, review
):
    logged_in(client, reviewer).get(url("version_detail", engagement, 1))  # printed and kept
    review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    html = client.get(url("version_detail", engagement, 1)).content.decode()
    assert 'Fine-tuning</a> <span class="muted">(1 comment)</span></li>' in html
    assert "Why 40k?" in html


def test_a_comment_on_an_item_that_did_not_save_shows_its_form_open_with_the_error(
    client, engagement, reviewer, review
):
    response = logged_in(client, reviewer).post(
        url("version_comment", engagement, 1),
        {"body": "   ", "item": "levels/fine-tuning"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="comment-item-levels-fine-tuning"' in html and "Write a comment first." in html


def test_a_threads_reply_form_opens_from_a_link(client, engagement, reviewer, review):
    thread = review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert f"?reply={thread.pk}#comment-{thread.pk}" in html
    assert f'id="reply-{thread.pk}"' not in html


def test_following_the_reply_link_prints_that_threads_reply_form_open(
    client, engagement, reviewer, review
):
    thread = review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    html = (
        logged_in(client, reviewer)
        .get(url("version_detail", engagement, 1), {"reply": thread.pk})
        .content.decode()
    )
    assert f'id="reply-{thread.pk}" name="body" rows="2" required autofocus>' in html
    assert "Resolve thread" in html


def test_htmx_fetches_the_threads_discussion_with_its_reply_form(
    client, engagement, reviewer, review
):
    thread = review.add_comment(reviewer, "On the whole version")
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1), {"reply": thread.pk}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and f'id="reply-{thread.pk}"' in html


@pytest.mark.parametrize("reply", ["0", "x", "reply-to-a-reply"])
def test_htmx_asking_to_reply_to_no_thread_of_this_version_is_404(
    client, engagement, reviewer, review, reply
):
    thread = review.add_comment(reviewer, "Why 40k?", anchor="levels/fine-tuning")
    if reply == "reply-to-a-reply":
        reply = str(review.add_comment(reviewer, "Because", parent=thread).pk)
    response = logged_in(client, reviewer).get(
        url("version_detail", engagement, 1), {"reply": reply}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 404


def test_a_resolved_thread_has_no_reply_link(client, engagement, reviewer, facilitator, review):
    thread = review.add_comment(reviewer, "Typo on day 2")
    thread.resolve(facilitator)
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert f"?reply={thread.pk}" not in html


def test_a_resolved_thread_names_who_resolved_it(client, engagement, reviewer, facilitator, review):
    review.add_comment(reviewer, "Typo on day 2").resolve(facilitator)
    html = logged_in(client, reviewer).get(url("version_detail", engagement, 1)).content.decode()
    assert f"Resolved by {display_name(facilitator)}</span>" in html


def test_a_comment_whose_author_is_gone_is_signed_former_member(
    client, engagement, facilitator, review
):
    Comment.objects.create(review=review, author=None, body="Typo on day 2")  # account deleted
    page = logged_in(client, facilitator).get(url("version_detail", engagement, 1))
    assert "<strong>Former member</strong>" in page.content.decode()


def test_a_hostile_comment_prints_escaped_in_its_paragraphs_as_written(
    client, engagement, facilitator, reviewer, review
):
    reviewer.first_name, reviewer.last_name = "<b>Ann</b>", "O'Neil & co"
    reviewer.save()
    body = 'First <script>alert("x")</script> & \\ line\nsame paragraph\n\nSecond'
    thread = review.add_comment(reviewer, body)
    review.add_comment(facilitator, "<i>reply</i>", parent=thread)
    thread.resolve(reviewer)
    html = logged_in(client, facilitator).get(url("version_detail", engagement, 1)).content.decode()
    assert (
        '<div class="comment-body"><p>First &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; '
        "&amp; \\ line<br>same paragraph</p>\n\n<p>Second</p></div>"
    ) in html
    assert "<strong>&lt;b&gt;Ann&lt;/b&gt; O&#x27;Neil &amp; co</strong>" in html
    assert "Resolved by &lt;b&gt;Ann&lt;/b&gt; O&#x27;Neil &amp; co</span>" in html
    assert '<div class="comment-body"><p>&lt;i&gt;reply&lt;/i&gt;</p></div>' in html
    assert "<script>" not in html.split("<main")[1]


def test_compare_before_any_version_says_there_is_none(client, engagement, reviewer):
    response = logged_in(client, reviewer).get(url("version_compare", engagement))
    assert "No version yet" in response.content.decode()
