"""Step-up at approval: approving or requesting changes asks the approver for their password
unless they signed in within the last five minutes; the decision records how and when they
proved who they are, and their name and email as they were at that moment."""

import datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.framework_content import fill_small_framework
from workshops.models import Approval, Review, ReviewState
from workshops.packs import artifact_source, pack_context
from workshops.stepup import SESSION_KEY, AuthenticatedVia

APPROVE = reverse("version_approve", args=["acme", 1])
CHANGES = reverse("version_request_changes", args=["acme", 1])
PAGE = reverse("version_detail", args=["acme", 1])


@pytest.fixture
def in_review(client, engagement, facilitator, approver):
    fill_small_framework(engagement.framework)
    client.force_login(facilitator)
    client.post(reverse("version_freeze", args=["acme"]), {"summary": "First cut"})
    client.post(reverse("version_submit", args=["acme", 1]))
    return Review.objects.get(engagement=engagement)


def _signed_in(client, user, minutes_ago):
    """`user` signed in through the login page `minutes_ago` minutes ago."""
    client.post(reverse("login"), {"username": user.username, "password": "pass-word-1"})
    session = client.session
    moment = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    session[SESSION_KEY] = moment.isoformat()
    session.save()
    return moment


def test_signing_in_is_remembered_for_step_up(client, approver):
    client.post(reverse("login"), {"username": "abe", "password": "pass-word-1"})
    assert timezone.now() - datetime.datetime.fromisoformat(client.session[SESSION_KEY]) < (
        datetime.timedelta(seconds=30)
    )


def test_the_version_page_asks_for_the_password_after_five_minutes(client, in_review, approver):
    _signed_in(client, approver, minutes_ago=6)
    assert 'name="approve-password"' in client.get(PAGE).content.decode()


def test_a_fresh_sign_in_is_not_asked_for_the_password(client, in_review, approver):
    _signed_in(client, approver, minutes_ago=1)
    assert 'name="approve-password"' not in client.get(PAGE).content.decode()


def test_approving_without_the_password_asks_for_it_and_records_nothing(
    client, in_review, approver
):
    _signed_in(client, approver, minutes_ago=6)
    response = client.post(APPROVE, {"approve-reason": "Looks right"})
    assert response.status_code == 422
    assert "Confirm your password to record this decision." in response.content.decode()
    assert not Approval.objects.exists()


def test_a_wrong_password_is_told_next_to_the_field_and_changes_nothing(
    client, in_review, approver
):
    _signed_in(client, approver, minutes_ago=6)
    response = client.post(APPROVE, {"approve-reason": "Looks", "approve-password": "guess"})
    assert "That is not your password: nothing was recorded." in response.content.decode()
    assert (Approval.objects.count(), Review.objects.get().state) == (0, ReviewState.IN_REVIEW)


def test_the_right_password_approves_and_is_recorded(client, in_review, approver):
    _signed_in(client, approver, minutes_ago=6)
    client.post(APPROVE, {"approve-password": "pass-word-1"})
    approval = Approval.objects.get()
    assert approval.authenticated_via == AuthenticatedVia.PASSWORD
    assert timezone.now() - approval.authenticated_at < datetime.timedelta(seconds=30)


def test_a_recent_sign_in_is_recorded_with_its_time(client, in_review, approver):
    signed_in_at = _signed_in(client, approver, minutes_ago=2)
    client.post(APPROVE)
    approval = Approval.objects.get()
    assert (approval.authenticated_via, approval.authenticated_at) == (
        AuthenticatedVia.RECENT_LOGIN,
        signed_in_at,
    )


def test_requesting_changes_also_asks_for_the_password(client, in_review, approver):
    _signed_in(client, approver, minutes_ago=6)
    response = client.post(CHANGES, {"changes-reason": "Raise the ceiling"})
    assert response.status_code == 422
    assert Review.objects.get().state == ReviewState.IN_REVIEW


def test_requesting_changes_records_how_the_approver_confirmed(client, in_review, approver):
    _signed_in(client, approver, minutes_ago=6)
    client.post(CHANGES, {"changes-reason": "Raise it", "changes-password": "pass-word-1"})
    decision = Approval.objects.get(decision=Approval.Decision.CHANGES_REQUESTED)
    assert decision.authenticated_via == AuthenticatedVia.PASSWORD


def test_the_approval_keeps_the_name_and_email_it_was_given_under(
    client, in_review, engagement, approver
):
    _signed_in(client, approver, minutes_ago=1)
    client.post(APPROVE)
    approver.first_name, approver.email = "Chief Executive", "ceo@acme.example"
    approver.save()
    assert (Approval.objects.get().approver_name, Approval.objects.get().approver_email) == (
        "Abe",
        "abe@example.com",
    )
    page = client.get(PAGE).content.decode()
    assert 'Abe <span class="muted">abe@example.com</span>' in page


def test_the_pack_prints_each_approver_name_and_email_as_recorded(
    client, in_review, engagement, approver
):
    _signed_in(client, approver, minutes_ago=1)
    client.post(APPROVE)
    approver.first_name = "Chief Executive"
    approver.save()
    sign_offs = pack_context(artifact_source(engagement, 1)).approvals
    assert [(s.approver, s.email, s.role) for s in sign_offs] == [
        ("Abe", "abe@example.com", "Approver")
    ]


@override_settings(AXES_ENABLED=True)
def test_guessing_the_password_at_approval_locks_out_like_the_login_page(
    client, in_review, approver
):
    _signed_in(client, approver, minutes_ago=6)
    for _ in range(5):
        client.post(APPROVE, {"approve-password": "guess"})
    response = client.post(APPROVE, {"approve-password": "pass-word-1"})
    assert response.status_code == 429
    assert not Approval.objects.exists()
