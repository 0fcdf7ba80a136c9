"""An invitation is for one address, not for whoever holds the link: accepting needs the signed-in
account's email to be the invited one (or a new account made with it), it offers no more than
its sender may grant, and it dies with its sender's membership."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_member, make_user
from workshops.forms import InvitationForm
from workshops.models import Invitation, Membership, Role, get_engagement_for

NEW_ACCOUNT = {
    "username": "newbie",
    "first_name": "New",
    "last_name": "Person",
    "password1": "correct-horse-battery-9",
    "password2": "correct-horse-battery-9",
}


def _invite(client, facilitator, email="newbie@example.com", role=Role.APPROVER):
    client.force_login(facilitator)
    client.post(reverse("invite", args=["acme"]), {"email": email, "role": role})
    client.logout()
    return Invitation.objects.get(email=email)


def _accept_url(invitation):
    return reverse("accept_invitation", args=[invitation.token])


def test_a_forwarded_invitation_is_refused_to_another_account(
    client, engagement, facilitator, outsider
):
    invitation = _invite(client, facilitator, role=Role.FACILITATOR)
    client.force_login(outsider)
    response = client.post(_accept_url(invitation))
    assert response.status_code == 403
    assert (
        "This invitation is for n…@example.com; you are signed in as otto (otto@example.com)"
        in response.content.decode()
    )
    assert not Membership.objects.filter(engagement=engagement, user=outsider).exists()


def test_the_refusal_is_shown_before_any_button(client, engagement, facilitator, outsider):
    invitation = _invite(client, facilitator)
    client.force_login(outsider)
    page = client.get(_accept_url(invitation)).content.decode()
    assert "you are signed in as otto" in page
    assert "Accept invitation" not in page


def test_a_refused_invitation_stays_usable_by_its_invitee(
    client, engagement, facilitator, outsider
):
    invitation = _invite(client, facilitator)
    client.force_login(outsider)
    client.post(_accept_url(invitation))
    assert Invitation.objects.get(pk=invitation.pk).unusable_reason() == ""


def test_the_invited_account_accepts_whatever_the_case_of_its_address(
    client, engagement, facilitator
):
    invitee = make_user("nina", email="Nina@Example.COM")
    invitation = _invite(client, facilitator, email="nina@example.com")
    client.force_login(invitee)
    client.post(_accept_url(invitation))
    assert Membership.objects.get(engagement=engagement, user=invitee).role == Role.APPROVER


def test_the_account_form_shows_the_invited_address_fixed(client, engagement, facilitator):
    invitation = _invite(client, facilitator)
    page = client.get(_accept_url(invitation)).content.decode()
    assert 'value="newbie@example.com"' in page and "disabled" in page


def test_a_new_account_gets_the_invited_address_whatever_is_posted(client, engagement, facilitator):
    invitation = _invite(client, facilitator)
    client.post(_accept_url(invitation), {**NEW_ACCOUNT, "email": "mallory@attacker.example"})
    assert get_user_model().objects.get(username="newbie").email == "newbie@example.com"


def test_a_second_account_for_an_invited_address_is_refused(client, engagement, facilitator):
    make_user("nina", email="newbie@example.com")
    invitation = _invite(client, facilitator)
    response = client.post(_accept_url(invitation), NEW_ACCOUNT)
    assert "An account with this email address exists already: sign in" in (
        response.content.decode()
    )
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_removing_a_member_cancels_the_invitations_they_sent(client, engagement, facilitator):
    colleague = make_member(engagement, Role.FACILITATOR, make_user("cole"))
    invitation = _invite(client, colleague)
    client.force_login(facilitator)
    client.post(reverse("remove_member", args=["acme", "cole"]))
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert client.get(_accept_url(invitation)).status_code == 404


def test_demoting_a_facilitator_cancels_the_invitations_they_can_no_longer_grant(
    client, engagement, facilitator
):
    colleague = make_member(engagement, Role.FACILITATOR, make_user("cole"))
    invitation = _invite(client, colleague, role=Role.REVIEWER)
    client.force_login(facilitator)
    client.post(reverse("change_role", args=["acme", "cole"]), {"role": Role.APPROVER})
    assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_an_invitation_never_offers_more_than_its_sender_may_grant(engagement, approver):
    as_approver = get_engagement_for(approver, "acme")
    form = InvitationForm({"email": "x@example.com", "role": Role.REVIEWER}, engagement=as_approver)
    assert form.errors["role"] == ["As approver you cannot invite someone as reviewer."]
