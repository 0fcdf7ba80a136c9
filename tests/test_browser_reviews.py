"""The review journey in a real browser: freeze, submit, comment, request changes, fix, resubmit,
approve, signed off; and a reviewer who can neither see nor forge an approval.

The step editor is not on this branch, so the facilitator's fix is made through the ORM with the
same optimistic-locking save the editor uses (`save_edited`)."""

import pytest
from playwright.sync_api import expect

from escalation.models import EscalationLevel
from tests.framework_content import fill_small_framework
from workshops.models import Review, ReviewState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pass-word-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def freeze_and_submit(page, live_server, summary):
    page.goto(f"{live_server.url}/e/acme/versions/")
    page.get_by_label("What changed").fill(summary)
    page.get_by_role("button", name="Freeze as a new version").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#review-state")).to_have_text("In review")


def test_review_journey_to_sign_off(live_server, page, engagement, facilitator, approver, reviewer):
    fill_small_framework(engagement.framework)

    log_in(page, live_server, facilitator)
    freeze_and_submit(page, live_server, "First cut")
    log_out(page)

    log_in(page, live_server, approver)
    page.goto(f"{live_server.url}/e/acme/versions/1/")
    item = page.locator("#item-levels-fine-tuning")
    item.get_by_text("Comment on Fine-tuning").click()
    item.get_by_label("Your comment").fill("40k will not cover a second run.")
    item.get_by_role("button", name="Post comment").click()
    expect(page.locator("#item-levels-fine-tuning .thread")).to_contain_text("40k will not cover")
    page.get_by_label("What must change").fill("Raise the fine-tuning cost ceiling.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#review-state")).to_have_text("Changes requested")
    log_out(page)

    level = EscalationLevel.objects.get(framework=engagement.framework, key="fine-tuning")
    level.cost_ceiling = 55000
    level.save_edited(loaded_row_version=level.row_version, update_fields=["cost_ceiling"])
    log_in(page, live_server, facilitator)
    page.goto(f"{live_server.url}/e/acme/versions/1/")
    thread = page.locator("#item-levels-fine-tuning .thread")
    thread.get_by_role("link", name="Reply or resolve").click()  # the forms fetched in place
    thread.get_by_label("Reply").fill("Raised to 55k in v2.")
    thread.get_by_role("button", name="Post reply").click()
    expect(page.locator("#item-levels-fine-tuning .thread .reply")).to_contain_text("55k in v2")
    freeze_and_submit(page, live_server, "Raised the fine-tuning cost ceiling")
    log_out(page)

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/e/acme/versions/2/")
    expect(page.get_by_role("button", name="Approve v2")).to_have_count(0)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"{live_server.url}/e/acme/versions/2/approve/",
        headers={"X-CSRFToken": token, "Referer": f"{live_server.url}/e/acme/versions/2/"},
    )
    assert forged.status == 403
    log_out(page)

    log_in(page, live_server, approver)
    page.goto(f"{live_server.url}/e/acme/versions/2/")
    changes = page.locator("section", has=page.get_by_role("heading", name="What changed since v1"))
    expect(changes).to_contain_text("Cost ceiling")
    expect(changes).to_contain_text("55000.00")
    expect(page.locator("#item-levels-fine-tuning")).to_contain_text("approve again")
    page.get_by_role("button", name="Approve v2").click()
    expect(page.locator("#signed-off")).to_be_visible()
    assert Review.objects.get(version__number=2).state == ReviewState.APPROVED
