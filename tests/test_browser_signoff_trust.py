"""Who can sign off, in a real browser: an approver is invited, accepts with the invited address,
reviews, confirms their password and approves; meanwhile the facilitator cannot change the
required approvers of the version in review, and is told why."""

import datetime

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.framework_content import fill_small_framework
from tests.worker import run_worker
from workshops.models import Approval, Review, ReviewState
from workshops.stepup import SESSION_KEY, AuthenticatedVia

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username, password="pass-word-1"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def sign_in_ages(page, minutes):
    """Let `minutes` pass since the browser's sign-in (the session remembers when it was)."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    moment = timezone.now() - datetime.timedelta(minutes=minutes)
    session[SESSION_KEY] = moment.isoformat()
    session.save()


def test_an_invited_approver_confirms_their_password_and_signs_off(
    live_server, page, engagement, facilitator
):
    fill_small_framework(engagement.framework)

    log_in(page, live_server, facilitator.username)
    page.goto(f"{live_server.url}/e/acme/people/")
    page.get_by_label("Email").fill("nina@acme.example")
    page.get_by_label("Role").last.select_option("approver")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to nina@acme.example")).to_be_visible()
    log_out(page)

    run_worker()  # the worker sends the invitation
    link = next(word for word in mail.outbox[-1].body.split() if "/invitations/" in word)
    page.goto(live_server.url + link[link.index("/invitations/") :])
    expect(page.get_by_label("Email address")).to_have_value("nina@acme.example")
    expect(page.get_by_label("Email address")).to_be_disabled()
    page.get_by_label("Username").fill("nina")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Okafor")
    page.locator("#id_password1").fill("correct-horse-battery-9")
    page.locator("#id_password2").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_text("Welcome to")).to_be_visible()
    log_out(page)

    log_in(page, live_server, facilitator.username)
    page.goto(f"{live_server.url}/e/acme/versions/")
    page.get_by_label("What changed").fill("First cut")
    page.get_by_role("button", name="Freeze as a new version").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#review-state")).to_have_text("In review")
    page.goto(f"{live_server.url}/e/acme/people/")
    expect(page.locator("#open-review-terms")).to_contain_text("Nina Okafor (nina@acme.example)")
    ninas_role = page.locator("form.role-form", has=page.get_by_label("Role of nina"))
    ninas_role.get_by_label("Role of nina").select_option("reviewer")
    ninas_role.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("Nina Okafor is a required approver of v1, in review")).to_be_visible()
    log_out(page)

    log_in(page, live_server, "nina", "correct-horse-battery-9")
    sign_in_ages(page, minutes=10)
    page.goto(f"{live_server.url}/e/acme/versions/1/")
    expect(page.locator("#item-levels-fine-tuning")).to_be_visible()
    approve = page.locator("form", has=page.get_by_role("button", name="Approve v1"))
    approve.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Approve v1").click()
    expect(page.get_by_text("That is not your password: nothing was recorded.")).to_be_visible()
    approve.get_by_label("Your password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Approve v1").click()
    expect(page.locator("#signed-off")).to_be_visible()
    expect(page.locator(".signoff-rows")).to_contain_text("Nina Okafor nina@acme.example")

    assert Review.objects.get().state == ReviewState.APPROVED
    assert Approval.objects.get().authenticated_via == AuthenticatedVia.PASSWORD
