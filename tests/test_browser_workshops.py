"""The facilitator's journey through the first three days of the demo engagement.

Progress here is the plan's checklist: each day needs attendees, decisions and content in its
steps; the bar counts how many of those checks the whole plan satisfies.
"""

import re

import pytest
from playwright.sync_api import expect

from workshops.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_facilitator_walks_days_one_to_three_and_saves_notes(live_server, page):
    load_demo()
    page.goto(live_server.url)
    page.get_by_label("Username").fill("facilitator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="AI escalation framework 2026").click()
    page.get_by_role("link", name="Days", exact=True).click()
    page.get_by_role("link", name="The systems in scope and what good looks like").click()
    expect(page.get_by_text("Day 1 of 10")).to_be_visible()
    page.get_by_role("link", name="Next day →").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance thresholds")
    page.get_by_role("link", name="Next day →").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Failure-mode taxonomy")
    progress = page.get_by_test_id("progress-text")
    done, total = map(int, re.match(r"(\d+) of (\d+) checks", progress.inner_text()).groups())

    page.get_by_label("Decisions").fill("Five failure kinds, hallucination rated high")
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text("Record who was present before recording decisions.")).to_be_visible()
    expect(page.get_by_label("Decisions")).to_have_value(
        "Five failure kinds, hallucination rated high"
    )
    expect(progress).to_contain_text(f"{done} of {total} checks")
    expect(page).to_have_url(re.compile(r"/e/demo/days/3/$"))  # saved in place by htmx

    page.get_by_label("Attendees").fill("Fiona Fairbanks (facilitator)\nArjun Appleby (claims)")
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("Saved at"))).to_be_visible()
    expect(progress).to_contain_text(f"{done + 2} of {total} checks")  # attendees and decisions
    expect(page.get_by_text("Record who attended.")).to_have_count(0)
