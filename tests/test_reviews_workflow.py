"""The review state machine: every state × every action × every role, sign-off and notices."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from escalation.models import EscalationLevel
from tests.factories import SEEDED, make_member, make_user
from tests.framework_content import fill_small_framework
from tests.worker import run_worker
from workshops.models import (
    Activity,
    Approval,
    EngagementStatus,
    ReviewEvent,
    Role,
    SignoffRule,
)
from workshops.signoff import IllegalReviewMoveError, ReviewAction, ReviewState

ROLES = ["facilitator", "approver", "reviewer", "observer"]
STATES = list(ReviewState.values)
ACTIONS = ["submit", "withdraw", "approve", "request_changes", "comment"]

# Who may act at all (else: 403 with "As <role> you cannot ...").
ALLOWED_ROLES = {
    "submit": {"facilitator"},
    "withdraw": {"facilitator"},
    "approve": {"approver"},
    "request_changes": {"approver"},
    "comment": {"facilitator", "approver", "reviewer"},
}
ROLE_REFUSALS = {
    ("submit", "approver"): "As approver you cannot edit the framework and the plan.",
    ("submit", "reviewer"): "As reviewer you cannot edit the framework and the plan.",
    ("submit", "observer"): "As observer you cannot edit the framework and the plan.",
    ("approve", "facilitator"): "As facilitator you cannot approve or request changes.",
    ("approve", "reviewer"): "As reviewer you cannot approve or request changes.",
    ("approve", "observer"): "As observer you cannot approve or request changes.",
    ("comment", "observer"): "As observer you cannot comment on drafts.",
}
# From which state each allowed role's move succeeds, and where it leads.
OUTCOMES = {
    ("submit", "draft"): "in_review",
    ("withdraw", "in_review"): "draft",
    ("approve", "in_review"): "approved",  # the only approver: their approval signs off
    ("request_changes", "in_review"): "changes_requested",
    ("comment", "draft"): "draft",
    ("comment", "in_review"): "in_review",
    ("comment", "changes_requested"): "changes_requested",
}
SUPERSEDED = "v1 is superseded by a newer signed-off version."
STATE_REFUSALS = {
    ("submit", "in_review"): "v1 is in review already.",
    ("submit", "changes_requested"): (
        "Changes were requested on v1: fix the working draft, freeze a new version and submit that."
    ),
    ("submit", "approved"): "v1 is approved already: to change it, freeze a new version.",
    ("submit", "superseded"): SUPERSEDED,
    ("withdraw", "draft"): "v1 is not in review, so there is nothing to withdraw.",
    ("withdraw", "changes_requested"): (
        "v1 is back with the facilitator already: changes were requested."
    ),
    ("withdraw", "approved"): (
        "v1 is signed off: a sign-off cannot be withdrawn. Freeze a new version instead."
    ),
    ("withdraw", "superseded"): SUPERSEDED,
    ("approve", "draft"): "v1 has not been submitted for review.",
    ("approve", "changes_requested"): (
        "Changes were requested on v1: approve the new version that makes them."
    ),
    ("approve", "approved"): "v1 is signed off already.",
    ("approve", "superseded"): SUPERSEDED,
    ("request_changes", "draft"): "v1 has not been submitted for review.",
    ("request_changes", "changes_requested"): "Changes were requested on v1 already.",
    (
        "request_changes",
        "approved",
    ): "v1 is signed off: raise the change on the next version instead.",
    ("request_changes", "superseded"): SUPERSEDED,
    ("comment", "approved"): (
        "v1 is signed off and its discussion is closed: comment on a newer version."
    ),
    ("comment", "superseded"): SUPERSEDED,
}


def _role_refusal(action, role):
    capability_action = "submit" if action == "withdraw" else action
    capability_action = "approve" if action == "request_changes" else capability_action
    return ROLE_REFUSALS[(capability_action, role)]


def act(review, user, action):
    if action == "submit":
        review.submit(user)
    elif action == "withdraw":
        review.withdraw(user, "Not ready")
    elif action == "approve":
        review.approve(user, "Looks right", authentication=SEEDED)
    elif action == "request_changes":
        review.request_changes(user, "Raise the cost ceiling", authentication=SEEDED)
    else:
        review.add_comment(user, "Is this right?")


@pytest.fixture
def cast(facilitator, approver, reviewer, observer):
    return {
        "facilitator": facilitator,
        "approver": approver,
        "reviewer": reviewer,
        "observer": observer,
    }


@pytest.fixture
def review(engagement, facilitator):
    fill_small_framework(engagement.framework)
    return engagement.freeze_version(facilitator, "First cut")


def put_in_state(review, state):
    signed_off = timezone.now() if state in {"approved", "superseded"} else None
    submitted = timezone.now() if state != "draft" else None
    type(review).objects.filter(pk=review.pk).update(
        state=state, signed_off_at=signed_off, submitted_at=submitted
    )
    review.refresh_from_db()
    if state != "draft":  # the terms its submission would have recorded
        for membership in review.engagement.signoff_approvers():
            review.required.create(
                user=membership.user,
                submitted_at=review.submitted_at,
                name=str(membership.user),
                role=membership.role,
            )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_transition_matrix(review, cast, state, action, role):
    put_in_state(review, state)
    if role not in ALLOWED_ROLES[action]:
        with pytest.raises(PermissionDenied) as refused:
            act(review, cast[role], action)
        assert str(refused.value) == _role_refusal(action, role)
    elif (action, state) in OUTCOMES:
        act(review, cast[role], action)
        review.refresh_from_db()
        assert review.state == OUTCOMES[(action, state)]
    else:
        with pytest.raises(IllegalReviewMoveError) as refused:
            act(review, cast[role], action)
        assert str(refused.value) == STATE_REFUSALS[(action, state)]
        review.refresh_from_db()
        assert review.state == state


def test_a_refused_move_leaves_no_trace(review, approver):
    events = ReviewEvent.objects.count()
    with pytest.raises(IllegalReviewMoveError):
        review.approve(approver, authentication=SEEDED)
    assert (ReviewEvent.objects.count(), Approval.objects.count()) == (events, 0)


def test_every_move_is_recorded_with_who_and_why(review, facilitator, approver):
    review.submit(facilitator)
    review.request_changes(approver, "Cost ceiling too low", authentication=SEEDED)
    event = review.events.get(action=ReviewAction.REQUEST_CHANGES)
    assert (event.actor, event.from_state, event.to_state, event.reason) == (
        approver,
        "in_review",
        "changes_requested",
        "Cost ceiling too low",
    )
    assert Activity.objects.filter(verb="review.request_changes", actor=approver).exists()


def test_requesting_changes_needs_a_reason(review, facilitator, approver):
    review.submit(facilitator)
    with pytest.raises(ValidationError, match="a reason is required"):
        review.request_changes(approver, "  ", authentication=SEEDED)


def test_an_approver_approves_once(engagement, review, facilitator, approver):
    make_member(engagement, Role.APPROVER)  # a second approver keeps the review open
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    with pytest.raises(IllegalReviewMoveError, match="You approved v1 already."):
        review.approve(approver, authentication=SEEDED)


def test_sign_off_waits_for_every_approver(engagement, review, facilitator, approver):
    second = make_member(engagement, Role.APPROVER)
    review.submit(facilitator)
    assert review.approve(approver, authentication=SEEDED) is False
    assert review.approve(second, authentication=SEEDED) is True
    assert review.state == ReviewState.APPROVED


def test_sign_off_records_each_approver_time_and_hash(engagement, review, facilitator, approver):
    second = make_member(engagement, Role.APPROVER)
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    review.approve(second, authentication=SEEDED)
    approvals = review.approvals.filter(decision=Approval.Decision.APPROVED)
    assert {a.approver for a in approvals} == {approver, second}
    assert {a.sha256 for a in approvals} == {review.version.sha256}
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.SIGNED_OFF


def test_named_rule_needs_only_the_named_approvers(engagement, review, facilitator, approver):
    make_member(engagement, Role.APPROVER, signoff_required=False)
    engagement.signoff_rule = SignoffRule.NAMED_APPROVERS
    engagement.save()
    review.submit(facilitator)
    assert review.approve(approver, authentication=SEEDED) is True


def test_a_newer_sign_off_supersedes_the_older_version(engagement, review, facilitator, approver):
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=50000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    second.submit(facilitator)
    second.approve(approver, authentication=SEEDED)
    review.refresh_from_db()
    assert (review.state, review.signed_off_at is not None) == (ReviewState.SUPERSEDED, True)


def test_only_one_version_is_in_review_at_a_time(engagement, review, facilitator):
    review.submit(facilitator)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=50000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    with pytest.raises(IllegalReviewMoveError, match="v1 is in review: withdraw it"):
        second.submit(facilitator)


def test_the_next_review_compares_with_the_last_signed_off_version(
    engagement, review, facilitator, approver
):
    review.submit(facilitator)
    review.approve(approver, authentication=SEEDED)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=50000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    assert second.baseline() == review


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_submitting_emails_reviewers_and_approvers(
    review, facilitator, approver, reviewer, observer, mailoutbox
):
    review.submit(facilitator)
    run_worker()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([approver.email, reviewer.email])
    assert "v1 is ready for review" in mailoutbox[0].subject


UNREACHABLE_MAIL = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
    }
}


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
@override_settings(MAILERS=UNREACHABLE_MAIL)
def test_a_failed_email_does_not_lose_the_submission(review, facilitator, approver):
    review.submit(facilitator)
    run_worker()
    review.refresh_from_db()
    assert review.state == ReviewState.IN_REVIEW


def test_replies_thread_under_the_first_comment(review, approver, reviewer):
    first = review.add_comment(approver, "Why 40k?", anchor="levels/fine-tuning")
    reply = review.add_comment(reviewer, "Budget cap", parent=first)
    reply_to_reply = review.add_comment(approver, "Fine", parent=reply)
    assert (reply.parent, reply_to_reply.parent, reply_to_reply.anchor) == (
        first,
        first,
        "levels/fine-tuning",
    )


def test_a_comment_names_an_item_of_the_version(review, approver):
    with pytest.raises(ValidationError, match="v1 has no item levels/nope"):
        review.add_comment(approver, "Hm", anchor="levels/nope")


def test_a_thread_is_resolved_by_its_author_or_a_facilitator(review, approver, reviewer):
    thread = review.add_comment(approver, "Why 40k?")
    with pytest.raises(PermissionDenied):
        thread.resolve(reviewer)
    thread.resolve(approver)
    assert (thread.resolved_by, thread.resolved_at is not None) == (approver, True)


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_reviewers_are_the_ones_emailed_not_observers(review, facilitator, observer, mailoutbox):
    review.submit(facilitator)
    run_worker()
    assert observer.email not in [m.to[0] for m in mailoutbox]


def test_a_user_outside_the_engagement_cannot_act(review, outsider):
    with pytest.raises(PermissionDenied, match="Only members"):
        review.add_comment(outsider, "Hello")


def test_make_user_helper_is_not_a_member(review):
    assert (
        review.refusal(make_user("nobody"), "comment")
        == "Only members of this engagement can do that."
    )


def test_before_any_sign_off_the_next_review_compares_with_the_previous_version(
    engagement, review, facilitator, approver
):
    review.submit(facilitator)
    review.request_changes(approver, "Raise the ceiling", authentication=SEEDED)
    EscalationLevel.objects.filter(key="fine-tuning").update(cost_ceiling=50000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    assert second.baseline() == review
