"""Who can sign off: the terms of a review (its rule and required approvers) are fixed when the
version is submitted, so a facilitator cannot manufacture a sign-off mid-review by inviting an
address they control, naming it after a real executive and making it the approver that counts."""

import pytest
from django.urls import reverse

from tests.factories import make_member, make_user
from tests.framework_content import fill_small_framework
from workshops.models import (
    Approval,
    Invitation,
    Membership,
    Review,
    ReviewState,
    Role,
    SignoffRule,
)


@pytest.fixture
def submitted(client, engagement, facilitator, approver):
    """v1 frozen and submitted through the views while Abe is the only approver."""
    fill_small_framework(engagement.framework)
    client.force_login(facilitator)
    client.post(reverse("version_freeze", args=["acme"]), {"summary": "First cut"})
    client.post(reverse("version_submit", args=["acme", 1]))
    review = Review.objects.get(engagement=engagement)
    assert review.state == ReviewState.IN_REVIEW
    return review


def _state(review):
    review.refresh_from_db()
    return review.state


def _impostor_joins(client, facilitator, name=("Abe", "Executive")):
    """The facilitator invites an address they control as approver and accepts it under the
    real approver's name, all through the app's own pages."""
    client.force_login(facilitator)
    client.post(
        reverse("invite", args=["acme"]),
        {"email": "mallory@attacker.example", "role": Role.APPROVER},
    )
    token = Invitation.objects.get(email="mallory@attacker.example").token
    client.logout()
    client.post(
        reverse("accept_invitation", args=[token]),
        {
            "username": "mallory",
            "first_name": name[0],
            "last_name": name[1],
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )
    return Membership.objects.get(user__username="mallory").user


def test_submitting_records_the_rule_and_each_required_approver(submitted, approver):
    required = [(r.user, r.name, r.email, r.role) for r in submitted.required_approvers()]
    assert required == [(approver, "Abe", "abe@example.com", Role.APPROVER)]
    assert submitted.signoff_rule == SignoffRule.ALL_APPROVERS


def test_demoting_a_required_approver_mid_review_is_refused_naming_the_review(
    client, submitted, facilitator, approver
):
    response = client.post(
        reverse("change_role", args=["acme", approver.username]),
        {"role": Role.REVIEWER},
        follow=True,
    )
    assert "Abe is a required approver of v1, in review: withdraw the review first" in (
        response.content.decode()
    )
    assert Membership.objects.get(user=approver).role == Role.APPROVER


def test_removing_a_required_approver_mid_review_is_refused(
    client, submitted, facilitator, approver
):
    response = client.post(reverse("remove_member", args=["acme", approver.username]), follow=True)
    assert "required approver of v1, in review" in response.content.decode()
    assert Membership.objects.filter(user=approver).exists()


def test_a_required_approver_may_be_demoted_once_the_review_is_withdrawn(
    client, submitted, facilitator, approver
):
    client.post(reverse("version_withdraw", args=["acme", 1]))
    client.post(reverse("change_role", args=["acme", approver.username]), {"role": Role.REVIEWER})
    assert Membership.objects.get(user=approver).role == Role.REVIEWER


def test_the_manufactured_sign_off_does_not_count(client, submitted, facilitator, approver):
    impostor = _impostor_joins(client, facilitator)
    client.force_login(facilitator)
    client.post(
        reverse("signoff_rule", args=["acme"]),
        {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [impostor.username]},
    )
    client.force_login(impostor)
    client.post(reverse("version_approve", args=["acme", 1]), {"approve-reason": "Fine"})
    assert _state(submitted) == ReviewState.IN_REVIEW
    assert [r.user for r in submitted.missing_signoffs()] == [approver]


def test_the_impostor_is_shown_with_their_own_address_and_as_not_counting(
    client, submitted, facilitator, approver
):
    impostor = _impostor_joins(client, facilitator)
    client.force_login(impostor)
    client.post(reverse("version_approve", args=["acme", 1]), {"approve-reason": "Fine"})
    page = client.get(reverse("version_detail", args=["acme", 1])).content.decode()
    assert 'Abe Executive <span class="muted">mallory@attacker.example</span>' in page
    assert "not a required approver of this review: does not count" in page


def test_a_rule_changed_mid_review_applies_to_the_next_review_only(
    client, submitted, engagement, facilitator, approver
):
    second = make_member(engagement, Role.APPROVER, make_user("bea"))
    client.post(
        reverse("signoff_rule", args=["acme"]),
        {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [second.username]},
    )
    client.force_login(second)
    client.post(reverse("version_approve", args=["acme", 1]))
    assert _state(submitted) == ReviewState.IN_REVIEW
    client.force_login(approver)
    client.post(reverse("version_approve", args=["acme", 1]))
    assert _state(submitted) == ReviewState.APPROVED


def test_the_people_page_says_changes_apply_to_the_next_review(client, submitted, facilitator):
    page = client.get(reverse("people", args=["acme"])).content.decode()
    assert "v1 is in review. Its sign-off needs Abe (abe@example.com)" in page
    assert "apply to the next review only" in page


def test_a_version_submitted_without_any_approver_cannot_be_signed_off(
    client, engagement, facilitator
):
    fill_small_framework(engagement.framework)
    client.force_login(facilitator)
    client.post(reverse("version_freeze", args=["acme"]), {"summary": "First cut"})
    client.post(reverse("version_submit", args=["acme", 1]))
    late = make_member(engagement, Role.APPROVER, make_user("lee"))
    client.force_login(late)
    client.post(reverse("version_approve", args=["acme", 1]))
    assert Review.objects.get().state == ReviewState.IN_REVIEW
    assert Approval.objects.filter(approver=late).exists()


def test_the_people_page_names_the_approvers_of_the_latest_submission_only(
    client, submitted, facilitator, engagement
):
    client.post(reverse("version_withdraw", args=["acme", 1]), {"reason": "One more approver"})
    hostile = make_user("zed", first_name='Zed "<b>"', last_name="O'Hara & Co")
    make_member(engagement, Role.APPROVER, hostile)
    client.post(reverse("version_submit", args=["acme", 1]))
    assert _state(submitted) == ReviewState.IN_REVIEW
    page = client.get(reverse("people", args=["acme"])).content.decode()
    assert (
        "v1 is in review. Its sign-off needs Abe (abe@example.com), "
        "Zed &quot;&lt;b&gt;&quot; O&#x27;Hara &amp; Co (zed@example.com): fixed when"
    ) in page
