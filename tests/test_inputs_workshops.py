"""Property tests over the engagement, day and people forms and the login: no input makes the
server fail, and input that is refused changes nothing in the database."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from tests.inputs import (
    as_query_dict,
    database_state,
    few_examples,
    form_data,
    hostile_text,
    rolled_back,
    server_did_not_fail,
)
from workshops.forms import EngagementSettingsForm, InvitedUserForm
from workshops.models import EngagementStatus, Invitation, Role

pytestmark = pytest.mark.django_db

iso_dates = st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)).map(str)
plausible_settings = {
    "client_organisation": st.sampled_from(["Acme", "Northwind Insurance"]),
    "title": st.sampled_from(["Escalation framework", "Cycle 2"]),
    "scope_summary": st.sampled_from(["", "Claims bots"]),
    "start_date": iso_dates,
    "working_days": st.integers(-3, 14).map(str),
    "timezone": st.sampled_from(["Europe/London", "UTC", "America/New_York"]),
    "holidays": st.lists(iso_dates, max_size=3).map(", ".join),
}
SETTINGS_FIELDS = list(plausible_settings)
VALID_SETTINGS = {
    "client_organisation": "Acme",
    "title": "Cycle 2",
    "start_date": "2026-12-07",
    "working_days": "10",
    "timezone": "UTC",
    "holidays": "2026-12-08",
}
# The last representable days: a plan running past them must be refused, not overflow.
LATE_SETTINGS = VALID_SETTINGS | {"start_date": "9999-12-27"}


def refused(response) -> bool:
    """A form refused: an error status (422 with the form's errors, 404, 410...), or a page or
    redirect carrying an error message."""
    if response.status_code >= 400:
        return True
    return any(m.level_tag == "error" for m in get_messages(response.wsgi_request))


def post_and_check(client, url, data, **extra):
    client.cookies.pop("messages", None)  # only this request's messages say if it was refused
    before = database_state()
    response = client.post(url, data, **extra)
    server_did_not_fail(response)
    if refused(response):
        assert database_state() == before
    return response


# Login (Django's form, with django-axes counting failures as in production)


@override_settings(AXES_ENABLED=True)
@few_examples
@given(data=form_data(["username", "password"], username=st.just("fay")))
def test_login_never_fails_and_a_refused_login_logs_nobody_in(facilitator, data):
    with rolled_back():
        client = Client()
        response = client.post(reverse("login"), data)
        server_did_not_fail(response)
        if response.status_code != 302:
            assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True)
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_over_long_username_is_refused_on_both_login_pages(db, url):
    response = Client().post(url, {"username": "x" * 300, "password": "guess"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


# New engagement and settings


@few_examples
@given(
    data=form_data(
        ["slug", *SETTINGS_FIELDS, "copy_from"],
        slug=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
        **plausible_settings,
    )
)
@example(data=VALID_SETTINGS | {"slug": "cycle-2"})
@example(data=LATE_SETTINGS | {"slug": "cycle-2"})
def test_new_engagement_form_never_fails_and_refusals_create_nothing(
    client, facilitator, engagement, data
):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, reverse("engagement_new"), data)


@few_examples
@given(data=form_data(SETTINGS_FIELDS, **plausible_settings))
@example(data=VALID_SETTINGS)
@example(data=LATE_SETTINGS)
def test_settings_form_never_fails_and_refusals_change_nothing(
    client, facilitator, engagement, data
):
    client.force_login(facilitator)
    with rolled_back():
        valid = EngagementSettingsForm(as_query_dict(data), instance=engagement).is_valid()
        engagement.refresh_from_db()
        response = post_and_check(client, reverse("engagement_settings", args=["acme"]), data)
        assert (response.status_code == 302) == valid


@few_examples
@given(data=form_data(["status"], status=st.sampled_from(EngagementStatus.values)))
def test_status_move_never_fails_and_refusals_change_nothing(client, facilitator, engagement, data):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, reverse("engagement_status", args=["acme"]), data)


# Day notes, as a page form and through htmx


@few_examples
@given(
    number=st.one_of(st.integers(0, 12), st.integers(0, 10**25)),
    data=form_data(["attendees", "decisions", "open_questions"]),
    htmx=st.booleans(),
)
def test_day_notes_never_fail_and_refusals_change_nothing(
    client, facilitator, engagement, number, data, htmx
):
    client.force_login(facilitator)
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"/e/acme/days/{number}/notes/"
    with rolled_back():
        post_and_check(client, url, data, headers=headers)


# People: invite, change role, remove


@few_examples
@given(
    data=form_data(
        ["email", "role"],
        email=st.emails().map(str),
        role=st.sampled_from(Role.values),
    )
)
def test_invite_never_fails_and_refusals_invite_nobody(client, facilitator, approver, data):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, reverse("invite", args=["acme"]), data)


def path_part(text: str) -> str:
    return urllib.parse.quote(text, safe="")


usernames = st.one_of(st.sampled_from(["fay", "abe", "rae", "otto", "nobody"]), hostile_text)


@few_examples
@given(
    username=usernames.filter(lambda name: name and "/" not in name),
    data=form_data(["role"], role=st.sampled_from(Role.values)),
)
def test_role_change_never_fails_and_refusals_change_nothing(
    client, facilitator, approver, reviewer, outsider, username, data
):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, f"/e/acme/people/{path_part(username)}/role/", data)


@few_examples
@given(username=usernames.filter(lambda name: name and "/" not in name))
def test_removal_never_fails_and_refusals_remove_nobody(
    client, facilitator, approver, outsider, username
):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, f"/e/acme/people/{path_part(username)}/remove/", {})


# Accepting an invitation with a new account


@few_examples
@given(token=hostile_text.filter(lambda token: token and "/" not in token), post=st.booleans())
def test_any_invitation_token_is_refused_cleanly(engagement, facilitator, token, post):
    with rolled_back():
        before = database_state()
        client = Client()
        url = f"/invitations/{path_part(token)}/"
        response = client.post(url, {}) if post else client.get(url)
        server_did_not_fail(response)
        assert database_state() == before


@few_examples
@given(
    data=form_data(
        ["username", "first_name", "last_name", "password1", "password2"],
        username=st.from_regex(r"[a-z]{3,12}", fullmatch=True),
        password1=st.just("correct-horse-battery-9"),
        password2=st.just("correct-horse-battery-9"),
    )
)
def test_new_account_form_never_fails_and_refusals_create_no_account(engagement, facilitator, data):
    with rolled_back():
        invitation = Invitation.objects.create(
            engagement=engagement, email="new@example.com", role=Role.REVIEWER
        )
        valid = InvitedUserForm(as_query_dict(data), invited_email=invitation.email).is_valid()
        client = Client()
        response = post_and_check(
            client, reverse("accept_invitation", args=[invitation.token]), data
        )
        assert (response.status_code == 302) == valid


# Django's password forms


@few_examples
@given(data=form_data(["email"], email=st.sampled_from(["fay@example.com", "no@example.com"])))
def test_password_reset_never_fails_and_changes_nothing(facilitator, data):
    with rolled_back():
        before = database_state()
        response = Client().post(reverse("password_reset"), data)
        server_did_not_fail(response)
        assert database_state() == before  # it only sends an email, if anything


@few_examples
@given(
    data=form_data(
        ["old_password", "new_password1", "new_password2"],
        old_password=st.just("pass-word-1"),
        new_password1=st.just("correct-horse-battery-9"),
        new_password2=st.just("correct-horse-battery-9"),
    )
)
def test_password_change_never_fails_and_refusals_keep_the_password(client, facilitator, data):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, reverse("password_change"), data)


def test_a_nul_character_in_an_address_is_refused_with_a_clear_400(client, facilitator):
    client.force_login(facilitator)
    response = client.post("/e/acme/people/fay%00/role/", {"role": "observer"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
