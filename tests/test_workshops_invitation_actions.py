"""Pending invitations: the facilitator cancels one, or resends it with a new link and a new week."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.worker import run_worker
from workshops.models import Activity, Invitation, Role


def _invitation(engagement, **fields):
    fields.setdefault("email", "newbie@example.com")
    fields.setdefault("role", Role.REVIEWER)
    return Invitation.objects.create(engagement=engagement, **fields)


def _url(name, invitation, slug="acme"):
    return reverse(name, args=[slug, invitation.pk])


def test_facilitator_cancels_an_invitation_and_its_link_dies(client, engagement, facilitator):
    invitation = _invitation(engagement)
    client.force_login(facilitator)
    client.post(_url("cancel_invitation", invitation))
    assert not Invitation.objects.exists()
    assert client.get(reverse("accept_invitation", args=[invitation.token])).status_code == 404


def test_cancelling_is_recorded(client, engagement, facilitator):
    client.force_login(facilitator)
    client.post(_url("cancel_invitation", _invitation(engagement)))
    assert Activity.objects.filter(verb="cancelled invitation").count() == 1


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_resending_sends_a_new_link_valid_for_a_new_week(client, engagement, facilitator):
    old_expiry = timezone.now() - datetime.timedelta(days=1)
    invitation = _invitation(engagement, expires_at=old_expiry)
    client.force_login(facilitator)
    client.post(_url("resend_invitation", invitation))
    run_worker()
    renewed = Invitation.objects.get()
    assert renewed.token != invitation.token and renewed.unusable_reason() == ""
    assert f"/invitations/{renewed.token}/" in mail.outbox[0].body


def test_the_old_link_stops_working_after_a_resend(client, engagement, facilitator):
    invitation = _invitation(engagement)
    client.force_login(facilitator)
    client.post(_url("resend_invitation", invitation))
    client.logout()
    assert client.get(reverse("accept_invitation", args=[invitation.token])).status_code == 404


def test_resending_is_recorded(client, engagement, facilitator):
    client.force_login(facilitator)
    client.post(_url("resend_invitation", _invitation(engagement)))
    assert Activity.objects.filter(verb="resent invitation").count() == 1


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_an_accepted_invitation_cannot_be_cancelled_or_resent(
    client, engagement, facilitator, outsider
):
    invitation = _invitation(engagement, email=outsider.email)
    Invitation.accept(invitation.token, outsider)
    client.force_login(facilitator)
    assert client.post(_url("cancel_invitation", invitation)).status_code == 404
    assert client.post(_url("resend_invitation", invitation)).status_code == 404
    run_worker()
    assert mail.outbox == []


def test_another_engagements_invitation_is_404(client, engagement, facilitator, outsider):
    other = Invitation.objects.get_or_create(
        engagement=outsider.memberships.get().engagement, email="x@example.com", role="reviewer"
    )[0]
    client.force_login(facilitator)
    assert client.post(_url("cancel_invitation", other)).status_code == 404
    assert Invitation.objects.filter(pk=other.pk).exists()


def test_an_outsider_gets_404(client, engagement, outsider):
    invitation = _invitation(engagement)
    client.force_login(outsider)
    assert client.post(_url("cancel_invitation", invitation)).status_code == 404
    assert client.post(_url("resend_invitation", invitation)).status_code == 404


def test_a_reviewer_cannot_cancel_or_resend(client, engagement, reviewer):
    invitation = _invitation(engagement)
    client.force_login(reviewer)
    assert client.post(_url("cancel_invitation", invitation)).status_code == 403
    assert client.post(_url("resend_invitation", invitation)).status_code == 403
    assert Invitation.objects.get().token == invitation.token


def test_cancel_and_resend_take_post_only(client, engagement, facilitator):
    invitation = _invitation(engagement)
    client.force_login(facilitator)
    assert client.get(_url("cancel_invitation", invitation)).status_code == 405
    assert client.get(_url("resend_invitation", invitation)).status_code == 405


def test_the_people_page_offers_resend_and_cancel(client, engagement, facilitator):
    _invitation(engagement)
    client.force_login(facilitator)
    page = client.get(reverse("people", args=["acme"])).content.decode()
    assert "Resend the invitation to newbie@example.com" in page
    assert "Cancel the invitation to newbie@example.com" in page
