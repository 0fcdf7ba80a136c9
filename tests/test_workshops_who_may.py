"""Who may do what beyond an engagement's roles: opening engagements is for consultants, the
invitation mail one person and one engagement may send is limited, and every draft export
follows one rule (observers read drafts on the pages, but take no draft files away)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_version
from tests.framework_content import make_framework_content
from tests.worker import run_worker
from workshops.audit import AuditVerb, record_activity
from workshops.demo import load_demo
from workshops.invitation_limits import PER_ENGAGEMENT_PER_DAY, PER_INVITER_PER_HOUR
from workshops.models import Engagement, Invitation, Role

pytestmark = pytest.mark.django_db

NEW = {
    "slug": "cycle-2",
    "client_organisation": "Acme",
    "title": "Cycle 2",
    "start_date": "2027-01-04",
    "working_days": "10",
    "timezone": "UTC",
}


# Opening engagements


def test_a_client_who_joined_by_invitation_cannot_open_an_engagement(client, approver):
    client.force_login(approver)
    assert client.post(reverse("engagement_new"), NEW).status_code == 403
    assert not Engagement.objects.filter(slug="cycle-2").exists()


def test_a_client_is_not_offered_a_new_engagement_or_an_import(client, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("home")).content.decode()
    assert reverse("engagement_new") not in html and reverse("import_framework") not in html


def test_a_client_cannot_open_an_engagement_from_a_file(client, approver):
    client.force_login(approver)
    assert client.get(reverse("import_framework")).status_code == 403


def test_a_consultant_opens_an_engagement(client, facilitator):
    client.force_login(facilitator)
    assert client.post(reverse("engagement_new"), NEW).status_code == 302


def test_the_demo_consultants_may_open_engagements_and_its_clients_may_not(client):
    load_demo()
    may_open = {}
    for username in ("facilitator", "outsider", "approver", "reviewer", "observer"):
        client.login(username=username, password="workshop-demo")
        may_open[username] = client.get(reverse("engagement_new")).status_code == 200
    assert may_open == {
        "facilitator": True,
        "outsider": True,
        "approver": False,
        "reviewer": False,
        "observer": False,
    }


# Invitation mail


def invite(client, number: int):
    return client.post(
        reverse("invite", args=["acme"]),
        {"email": f"person{number}@example.com", "role": Role.REVIEWER},
    )


def test_an_inviter_is_stopped_after_the_hourly_limit_with_a_message(client, facilitator):
    client.force_login(facilitator)
    for number in range(PER_INVITER_PER_HOUR):
        assert invite(client, number).status_code == 302
    response = invite(client, PER_INVITER_PER_HOUR)
    assert response.status_code == 429
    assert "invitations in the last hour" in response.content.decode()
    assert Invitation.objects.count() == PER_INVITER_PER_HOUR


def test_an_engagement_is_stopped_after_the_daily_limit_even_for_a_new_inviter(
    client, engagement, facilitator, outsider
):
    for _ in range(PER_ENGAGEMENT_PER_DAY):
        record_activity(engagement, outsider, AuditVerb.INVITED, "Invited someone as reviewer.")
    client.force_login(facilitator)
    response = invite(client, 1)
    assert response.status_code == 429
    assert "invitations in the last day" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_resends_count_towards_the_limit(client, engagement, facilitator, mailoutbox):
    client.force_login(facilitator)
    invite(client, 0)
    invitation = Invitation.objects.get()
    for _ in range(PER_INVITER_PER_HOUR - 1):
        record_activity(engagement, facilitator, AuditVerb.INVITATION_RESENT, "Sent a new link.")
    token = invitation.token
    response = client.post(reverse("resend_invitation", args=["acme", invitation.pk]), follow=True)
    run_worker()
    assert "invitations in the last hour" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.token == token and len(mailoutbox) == 1


# Draft exports


@pytest.mark.parametrize(
    "name", ["ladder_svg", "ladder_png", "register_csv", "matrix_csv", "review_cycle_ics"]
)
def test_an_observer_takes_no_draft_file_away(client, engagement, observer, name):
    make_framework_content(engagement.framework)
    client.force_login(observer)
    assert client.get(reverse(name, args=["acme"])).status_code == 403
    assert client.get(reverse("document_json", args=["acme"])).status_code == 403
    assert client.get(reverse("framework_json", args=["acme"])).status_code == 403


def test_an_observer_reads_the_draft_on_its_page_without_download_links(
    client, engagement, observer
):
    make_framework_content(engagement.framework)
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=["acme"])).content.decode()
    assert "Failure mode response matrix" in html
    assert reverse("register_csv", args=["acme"]) not in html


def test_a_reviewer_downloads_a_version_in_review_as_csv(client, engagement, reviewer):
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(reviewer)
    response = client.get(reverse("version_register_csv", args=["acme", 1]))
    assert response.status_code == 200
