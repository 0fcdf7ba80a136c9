"""The first journey: a demo user logs in and sees the demo engagement."""

import pytest

from workshops.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_facilitator_logs_in_and_opens_the_demo_engagement(live_server, page):
    load_demo()
    page.goto(live_server.url)
    page.get_by_label("Username").fill("facilitator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="AI escalation framework 2026").click()
    assert page.get_by_role("heading", level=1).inner_text() == "AI escalation framework 2026"
