"""People: invitations by email, single-use and expiring; roles; the last facilitator stays."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user
from tests.worker import run_worker
from workshops.models import Invitation, Membership, Role


def _invite(client, facilitator, email="newbie@example.com", role="approver"):
    client.force_login(facilitator)
    return client.post(reverse("invite", args=["acme"]), {"email": email, "role": role})


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_facilitator_invites_by_email_with_a_link(client, facilitator):
    _invite(client, facilitator)
    run_worker()
    invitation = Invitation.objects.get()
    assert mail.outbox[0].to == ["newbie@example.com"]
    assert f"/invitations/{invitation.token}/" in mail.outbox[0].body


def test_invitation_expires_after_seven_days(client, facilitator):
    _invite(client, facilitator)
    invitation = Invitation.objects.get()
    lifetime = invitation.expires_at - invitation.created_at
    assert round(lifetime.total_seconds()) == datetime.timedelta(days=7).total_seconds()


def test_inviting_a_member_again_is_refused(client, facilitator, approver):
    response = _invite(client, facilitator, email=approver.email)
    assert response.status_code == 422
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_invitation_with_a_bad_address_is_refused_and_sends_nothing(client, facilitator):
    response = _invite(client, facilitator, email="not-an-address")
    run_worker()
    assert response.status_code == 422
    assert mail.outbox == []


def _invitation(engagement, **fields):
    fields.setdefault("email", "newbie@example.com")
    fields.setdefault("role", Role.APPROVER)
    return Invitation.objects.create(engagement=engagement, **fields)


NEW_ACCOUNT = {
    "username": "newbie",
    "password1": "a-long-pass-phrase-9",
    "password2": "a-long-pass-phrase-9",
}


def test_invitation_page_is_public(client, engagement):
    invitation = _invitation(engagement)
    response = client.get(reverse("accept_invitation", args=[invitation.token]))
    assert response.status_code == 200
    assert "approver" in response.content.decode()


def test_new_user_sets_a_password_and_joins_with_the_invited_role(client, engagement):
    invitation = _invitation(engagement)
    response = client.post(reverse("accept_invitation", args=[invitation.token]), NEW_ACCOUNT)
    assert response["Location"] == reverse("dashboard", args=["acme"])
    membership = Membership.objects.get(user__username="newbie")
    assert (membership.role, membership.user.email) == (Role.APPROVER, "newbie@example.com")


def test_new_user_with_mismatched_passwords_is_told_and_nothing_is_created(client, engagement):
    invitation = _invitation(engagement)
    data = {**NEW_ACCOUNT, "password2": "something-else-entirely"}
    response = client.post(reverse("accept_invitation", args=[invitation.token]), data)
    assert response.status_code == 422
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_logged_in_user_accepts(client, engagement, outsider):
    invitation = _invitation(engagement, role=Role.REVIEWER, email=outsider.email)
    client.force_login(outsider)
    client.post(reverse("accept_invitation", args=[invitation.token]))
    assert Membership.objects.get(engagement=engagement, user=outsider).role == Role.REVIEWER


def test_an_expired_invitation_is_refused(client, engagement, outsider):
    invitation = _invitation(engagement, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    client.force_login(outsider)
    response = client.post(reverse("accept_invitation", args=[invitation.token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not Membership.objects.filter(engagement=engagement, user=outsider).exists()


def test_an_invitation_cannot_be_used_twice(client, engagement, outsider):
    invitation = _invitation(engagement)
    client.post(reverse("accept_invitation", args=[invitation.token]), NEW_ACCOUNT)
    client.logout()
    client.force_login(outsider)
    response = client.post(reverse("accept_invitation", args=[invitation.token]))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not Membership.objects.filter(engagement=engagement, user=outsider).exists()


def test_accepting_a_used_invitation_directly_raises(engagement, outsider):
    invitation = _invitation(engagement)
    Invitation.accept(invitation.token, make_user(email=invitation.email))
    with pytest.raises(ValidationError):
        Invitation.accept(invitation.token, make_user(email=invitation.email))


def test_an_unknown_token_is_404(client, db):
    assert client.get(reverse("accept_invitation", args=["nope"])).status_code == 404


def test_facilitator_changes_a_role(client, facilitator, reviewer, engagement):
    client.force_login(facilitator)
    client.post(reverse("change_role", args=["acme", reviewer.username]), {"role": "approver"})
    assert Membership.objects.get(user=reviewer).role == Role.APPROVER


def test_an_unknown_role_changes_nothing(client, facilitator, reviewer):
    client.force_login(facilitator)
    response = client.post(
        reverse("change_role", args=["acme", reviewer.username]), {"role": "owner"}, follow=True
    )
    assert "Choose one of the roles." in response.content.decode()
    assert Membership.objects.get(user=reviewer).role == Role.REVIEWER


def test_the_last_facilitator_cannot_step_down(client, facilitator):
    client.force_login(facilitator)
    response = client.post(
        reverse("change_role", args=["acme", facilitator.username]),
        {"role": "observer"},
        follow=True,
    )
    assert "is the last facilitator" in response.content.decode()
    assert Membership.objects.get(user=facilitator).role == Role.FACILITATOR


def test_the_last_facilitator_cannot_be_removed(client, facilitator):
    client.force_login(facilitator)
    response = client.post(
        reverse("remove_member", args=["acme", facilitator.username]), follow=True
    )
    assert "is the last facilitator" in response.content.decode()
    assert Membership.objects.filter(user=facilitator).exists()


def test_a_second_facilitator_may_leave(client, facilitator, reviewer):
    Membership.objects.filter(user=reviewer).update(role=Role.FACILITATOR)
    client.force_login(reviewer)
    response = client.post(reverse("remove_member", args=["acme", reviewer.username]))
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(user=reviewer).exists()


def test_facilitator_removes_a_member(client, facilitator, observer):
    client.force_login(facilitator)
    client.post(reverse("remove_member", args=["acme", observer.username]))
    assert not Membership.objects.filter(user=observer).exists()


def test_members_of_another_engagement_cannot_be_touched(client, facilitator, outsider):
    client.force_login(facilitator)
    response = client.post(reverse("remove_member", args=["acme", outsider.username]))
    assert response.status_code == 404
    assert Membership.objects.filter(user=outsider).exists()


def test_people_page_hides_management_from_non_facilitators(client, observer):
    client.force_login(observer)
    html = client.get(reverse("people", args=["acme"])).content.decode()
    assert "Send invitation" not in html
    assert "Change role" not in html


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_invitation_email_names_who_invited_and_the_role(client, facilitator):
    _invite(client, facilitator, role="reviewer")
    run_worker()
    assert mail.outbox[0].body.startswith("Fay invites you to the engagement")
    assert "as reviewer" in mail.outbox[0].body


def test_a_members_hostile_name_is_escaped_in_every_place_the_people_page_prints_it(
    client, facilitator, engagement
):
    hostile = make_user("mallory", first_name='<script>"x"</script>', last_name="& 'q'")
    Membership.objects.create(engagement=engagement, user=hostile, role=Role.REVIEWER)
    client.force_login(facilitator)
    html = client.get(reverse("people", args=["acme"])).content.decode()
    escaped = "&lt;script&gt;&quot;x&quot;&lt;/script&gt; &amp; &#x27;q&#x27;"
    assert "<script>" not in html
    assert f"<td>{escaped}</td>" in html  # the name cell
    assert f'data-confirm="Remove {escaped} from ' in html  # the removal's question
    assert f">Remove {escaped}</button>" in html
