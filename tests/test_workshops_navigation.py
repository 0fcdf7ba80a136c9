"""One engagement navigation on every engagement page, marking where the visitor is."""

import re

import pytest
from django.urls import reverse

from workshops.demo import load_demo

PAGES = [
    ("dashboard", {}, "Dashboard"),
    ("days", {}, "Days"),
    ("day", {"number": 3}, "Days"),
    ("step", {"step_key": "ladder"}, "Steps"),
    ("checks", {}, "Checks"),
    ("versions", {}, "Versions"),
    ("version_detail", {"number": 2}, "Versions"),
    ("version_compare", {}, "Versions"),
    ("audit", {}, "Audit trail"),
    ("people", {}, "People"),
    ("engagement_settings", {}, "Settings"),
]


def _current_sections(html: str) -> list[str]:
    nav = html[html.index('aria-label="Engagement"') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r'aria-current="page">([^<]+)<', nav)


@pytest.fixture
def demo_client(client, db):
    load_demo()
    client.login(username="facilitator", password="workshop-demo")
    return client


@pytest.mark.parametrize(("name", "kwargs", "section"), PAGES)
def test_every_engagement_page_marks_its_section(demo_client, name, kwargs, section):
    response = demo_client.get(reverse(name, kwargs={"slug": "demo", **kwargs}))
    assert _current_sections(response.content.decode()) == [section]


def test_settings_are_not_offered_to_an_observer(client, db):
    load_demo()
    client.login(username="observer", password="workshop-demo")
    html = client.get(reverse("dashboard", args=["demo"])).content.decode()
    assert reverse("engagement_settings", args=["demo"]) not in html


def test_home_offers_a_new_engagement_and_an_import(demo_client):
    html = demo_client.get(reverse("home")).content.decode()
    assert reverse("engagement_new") in html and reverse("import_framework") in html
    assert 'aria-label="Engagement"' not in html


def test_dashboard_links_to_versions_checks_and_audit(demo_client):
    html = demo_client.get(reverse("dashboard", args=["demo"])).content.decode()
    main = html[html.index("<main") :]
    for name in ("versions", "checks", "audit"):
        assert reverse(name, args=["demo"]) in main
