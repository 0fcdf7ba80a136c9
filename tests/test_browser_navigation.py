"""In a real browser: day pages load their step editors in place, and the engagement navigation
marks where the facilitator is."""

import pytest
from playwright.sync_api import expect

from workshops.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(live_server, page, username="facilitator"):
    load_demo()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_day_page_loads_its_step_editor_and_edits_in_place(live_server, page):
    _log_in(live_server, page)
    page.goto(f"{live_server.url}/e/demo/days/4/")
    page.get_by_role("link", name="Edit Fine-tuning").click()
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    assert page.url.endswith("/e/demo/days/4/")


def test_the_engagement_navigation_marks_the_current_section(live_server, page):
    _log_in(live_server, page)
    page.goto(f"{live_server.url}/e/demo/")
    nav = page.get_by_role("navigation", name="Engagement")
    nav.get_by_role("link", name="Versions").click()
    expect(nav.locator('[aria-current="page"]')).to_have_text("Versions")
