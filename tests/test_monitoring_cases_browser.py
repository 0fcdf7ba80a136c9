"""The escalation journey in a real browser: the live page shows the breach on the chart, the
owner opens the case from the live page and approves it, and the system's live level moves."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.live_demo import GROUNDEDNESS, feed, sign_off_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "cases"


def test_the_owner_sees_the_breach_and_approves_the_escalation(
    live_server, page, engagement, facilitator, approver
):
    owner = sign_off_demo(engagement, approver)["owner"]
    feed(engagement, [0.91, 0.80, 0.80, 0.80])

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("pass-word-1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/e/acme/live/")

    bound = page.locator(f"#bound-{GROUNDEDNESS}")
    expect(bound.locator(".badge")).to_have_text("Fired")
    expect(bound.locator("svg.live-chart circle.live-dot-fired")).to_have_count(1)
    expect(bound.locator("svg.live-chart circle.live-dot-breached")).to_have_count(3)
    system = page.locator("#system-support-assistant")
    expect(system).to_contain_text("Current level: 1. Prompt optimization")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    system.screenshot(path=SCREENSHOTS / "live-breach.png")

    system.get_by_role("link", name="Bound breached: ≥ 0.85 answer groundedness").click()
    expect(page.get_by_role("heading", name="Proposal")).to_be_visible()
    expect(page.locator("#decision")).to_be_visible()
    page.get_by_label("Note (optional)").fill("Add the policy documents as retrieval context.")
    page.get_by_role("button", name="Approve 2. Retrieval augmentation").click()
    expect(page.locator(".badge.case-approved")).to_be_visible()
    expect(page.get_by_role("list").filter(has_text="Level moved")).to_contain_text(
        "1. Prompt optimization → 2. Retrieval augmentation"
    )
    page.screenshot(path=SCREENSHOTS / "case-approved.png", full_page=True)

    page.goto(f"{live_server.url}/e/acme/live/")
    expect(page.locator("#system-support-assistant")).to_contain_text(
        "Current level: 2. Retrieval augmentation"
    )
    expect(page.locator("#cases-in-play")).to_contain_text("Retrieval augmentation")
    page.screenshot(path=SCREENSHOTS / "live-after-approval.png", full_page=True)
