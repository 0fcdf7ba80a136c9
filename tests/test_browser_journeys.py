"""The two journeys of the product, in a real browser, only by clicking what the pages offer:

- a consultant (facilitator) from "New engagement" to a version sent for review;
- a client approver from the invitation e-mail to the downloaded, signed PDF pack.

Every page passed through must log no console error (a CSP violation after an htmx swap counts).
Screenshots of each step land in test-results/journeys/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.factories import make_consultant, make_user
from tests.framework_content import fill_small_framework
from workshops.models import Invitation, Role
from workshops.notifications import send_invitation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "journeys"


class Journey:
    """A browser page that remembers every console error and takes numbered screenshots."""

    def __init__(self, page: Page, name: str) -> None:
        self.page, self.name, self.shots = page, name, 0
        self.errors: list[str] = []
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text} (at {message.location})")

    def screenshot(self, what: str) -> None:
        self.shots += 1
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def assert_no_console_error(self) -> None:
        assert self.errors == []


def run_worker() -> None:
    # As in test_artifacts_browser: the db_worker runs in the main thread while the browser polls.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_a_facilitator_goes_from_new_engagement_to_sent_for_review(live_server, page):
    make_consultant(make_user("fay", first_name="Fay", last_name="Fenwick"))
    journey = Journey(page, "facilitator")

    page.goto(live_server.url)  # the only typed address: the rest is clicking
    page.get_by_label("Username").fill("fay")
    page.get_by_label("Password").fill("pass-word-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="New engagement").click()
    journey.screenshot("new-engagement")

    page.get_by_label("Client").fill("Borealis Bank")
    page.get_by_label("Title").fill("Model escalation 2027")
    page.get_by_label("Scope summary").fill("The two customer-facing assistants.")
    page.get_by_label("Slug").fill("borealis")
    page.get_by_label("Start date").fill("2027-03-01")
    page.get_by_label("Length in working days").fill("10")
    page.get_by_role("button", name="Create engagement").click()
    expect(page.get_by_role("heading", name="What you do next")).to_be_visible()
    journey.screenshot("dashboard")

    page.get_by_role("link", name="Days", exact=True).click()
    page.get_by_role("link", name="The systems in scope and what good looks like").click()
    checklist = page.locator("#day-check")
    expect(checklist).to_contain_text("AI systems in scope: nothing recorded yet.")
    thresholds = page.locator("#editor-thresholds")
    expect(thresholds).to_contain_text("No AI systems yet")
    page.locator("#editor-systems").get_by_role("link", name="Add AI system").click()
    systems = page.locator("#editor-systems")
    systems.get_by_label("Name").fill("Mortgage assistant")
    systems.get_by_label("Vendor").fill("Anthropic")
    systems.get_by_label(re.compile(r"^Model:?$")).fill("claude")
    systems.get_by_label("Workflow / use case").fill("Answers mortgage questions")
    systems.get_by_label("Business owner").fill("Maria Lind")
    systems.get_by_label("Output types").fill("chat answer")
    systems.get_by_role("button", name="Add").click()
    expect(systems).to_contain_text("Mortgage assistant")
    # Every panel that depends on the new row follows, without a reload.
    expect(thresholds).to_contain_text("Add thresholds for chat answer")
    expect(checklist).not_to_contain_text("AI systems in scope: nothing recorded yet.")
    expect(systems.get_by_test_id("completion-systems")).to_have_text("100%")
    journey.screenshot("day-one-after-saving")

    page.get_by_role("link", name="Versions", exact=True).click()
    page.get_by_label("What changed").fill("First cut: the mortgage assistant")
    page.get_by_role("button", name="Freeze as a new version").click()
    expect(page.locator("#review-state")).to_have_text("Frozen, not in review")
    journey.screenshot("frozen")
    page.get_by_role("button", name="Submit v1 for review").click()
    expect(page.locator("#review-state")).to_have_text("In review")
    journey.screenshot("sent-for-review")
    journey.assert_no_console_error()


def test_an_approver_goes_from_the_invitation_to_the_signed_pack(live_server, page, engagement):
    facilitator = make_user("fay", first_name="Fay", last_name="Fenwick")
    engagement.memberships.create(user=facilitator, role=Role.FACILITATOR)
    fill_small_framework(engagement.framework)
    invitation = Invitation.objects.create(
        engagement=engagement, invited_by=facilitator, email="ada@acme.test", role=Role.APPROVER
    )
    mail.outbox.clear()
    send_invitation(invitation)
    run_worker()  # the worker sends the invitation
    review = engagement.freeze_version(facilitator, "First cut")
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body)
    assert link is not None
    journey = Journey(page, "approver")

    # The e-mail's link names the site's address; the test server listens at another one.
    page.goto(live_server.url + urlsplit(link.group(0)).path)
    journey.screenshot("invitation")
    page.get_by_label("Username").fill("ada")
    expect(page.get_by_label("Email address")).to_have_value("ada@acme.test")  # bound, not typed
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Achterberg")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-pass-phrase-9")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_text("Nothing waits for you now")).to_be_visible()
    # The approvers are fixed when a version is submitted: the facilitator sends v1 once Ada is in.
    review.submit(facilitator, notify=False)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_text("v1 awaits your approval.")).to_be_visible()
    expect(page.get_by_text("ready to be frozen")).to_have_count(0)
    journey.screenshot("dashboard")

    page.get_by_role("link", name="Review and approve v1").click()
    box = page.locator("#review-box")
    expect(box).to_be_in_viewport()
    journey.screenshot("version-under-review")
    page.get_by_role("navigation", name="Contents of v1").get_by_role(
        "link", name="Fine-tuning"
    ).first.click()
    item = page.locator("#item-levels-fine-tuning")
    item.get_by_text("Comment on Fine-tuning").click()
    item.get_by_label("Your comment").fill("Fine, if the cost ceiling holds.")
    item.get_by_role("button", name="Post comment").click()  # saved in place by htmx
    expect(item.locator(".thread")).to_contain_text("Fine, if the cost ceiling holds.")
    expect(box).to_be_in_viewport()  # the decision stays at hand while reading
    box.get_by_label("Note (optional)").fill("Approved for the first review cycle.")
    if box.locator("input[name$=password]").count():  # a password step-up, where there is one
        box.locator("input[name$=password]").fill("a-long-pass-phrase-9")
    box.get_by_role("button", name="Approve v1").click()
    expect(page.locator("#signed-off")).to_be_visible()

    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_text("v1 is signed off: download the signed pack.")).to_be_visible()
    page.get_by_role("link", name="Signed pack of v1").click()
    page.get_by_role("button", name="Generate pack").click()
    expect(page.locator("#pack-status")).to_contain_text("Waiting for the worker")
    journey.screenshot("pack-waiting")
    run_worker()
    download = page.get_by_role("link", name="Download")
    download.wait_for(timeout=60_000)
    journey.screenshot("pack-ready")
    with page.expect_download() as download_info:
        download.click()

    pdf = download_info.value.path().read_bytes()
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_signatures) == 1
    page.get_by_role("link", name="Back to the artifacts of v1").click()
    expect(page.get_by_role("link", name="v1 (signed off)")).to_have_attribute(
        "aria-current", "page"
    )
    journey.screenshot("artifacts")
    journey.assert_no_console_error()
