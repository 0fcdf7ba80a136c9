"""The permission matrix: every engagement page and action × every role, an outsider and an
anonymous visitor. One lookup helper decides; these tests pin down what it decides."""

import pytest
from django.urls import reverse

from tests.factories import make_member, make_user
from workshops.models import Role

ROLES = ["facilitator", "approver", "reviewer", "observer"]
EVERYONE = set(ROLES)
FACILITATOR = {"facilitator"}

SETTINGS = {
    "client_organisation": "Acme Insurance",
    "title": "Escalation framework",
    "scope_summary": "",
    "start_date": "2026-11-02",
    "working_days": "10",
    "timezone": "Europe/London",
    "holidays": "",
}

# name, method, URL name, extra URL args, POST data, roles allowed
ACTIONS = [
    ("dashboard", "get", "dashboard", [], None, EVERYONE),
    ("days", "get", "days", [], None, EVERYONE),
    ("current day", "get", "current_day", [], None, EVERYONE),
    ("day page", "get", "day", [2], None, EVERYONE),
    ("people", "get", "people", [], None, EVERYONE),
    ("settings page", "get", "engagement_settings", [], None, FACILITATOR),
    ("save settings", "post", "engagement_settings", [], SETTINGS, FACILITATOR),
    ("move status", "post", "engagement_status", [], {"status": "running"}, FACILITATOR),
    ("save day notes", "post", "day_notes", [2], {"attendees": "Ann"}, FACILITATOR),
    ("invite", "post", "invite", [], {"email": "new@example.com", "role": "observer"}, FACILITATOR),
    ("change role", "post", "change_role", ["target"], {"role": "observer"}, FACILITATOR),
    ("remove member", "post", "remove_member", ["target"], {}, FACILITATOR),
]
MATRIX = [(role, *action) for action in ACTIONS for role in ROLES]


@pytest.fixture
def cast(engagement, facilitator, approver, reviewer, observer, outsider):
    make_member(engagement, Role.REVIEWER, make_user("target"))
    return {
        "facilitator": facilitator,
        "approver": approver,
        "reviewer": reviewer,
        "observer": observer,
        "outsider": outsider,
    }


def _call(client, method, url_name, args, data):
    url = reverse(url_name, args=["acme", *args])
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize(("role", "name", "method", "url_name", "args", "data", "allowed"), MATRIX)
def test_role_matrix(client, cast, role, name, method, url_name, args, data, allowed):
    client.force_login(cast[role])
    response = _call(client, method, url_name, args, data)
    if role in allowed:
        assert response.status_code in {200, 302}, response.content[:500]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("name", "method", "url_name", "args", "data", "allowed"), ACTIONS)
def test_outsider_gets_404_everywhere(client, cast, name, method, url_name, args, data, allowed):
    client.force_login(cast["outsider"])
    assert _call(client, method, url_name, args, data).status_code == 404


@pytest.mark.parametrize(("name", "method", "url_name", "args", "data", "allowed"), ACTIONS)
def test_anonymous_is_sent_to_login(client, cast, name, method, url_name, args, data, allowed):
    response = _call(client, method, url_name, args, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", ["engagement_status", "day_notes", "invite"])
def test_actions_refuse_get(client, cast, url_name):
    client.force_login(cast["facilitator"])
    args = ["acme", 2] if url_name == "day_notes" else ["acme"]
    assert client.get(reverse(url_name, args=args)).status_code == 405


def test_pages_refuse_delete(client, cast):
    client.force_login(cast["facilitator"])
    assert client.delete(reverse("dashboard", args=["acme"])).status_code == 405


def test_home_and_new_engagement_need_only_a_login(client, cast):
    client.force_login(cast["outsider"])
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("engagement_new")).status_code == 200


def test_home_lists_only_my_engagements(client, cast):
    client.force_login(cast["outsider"])
    html = client.get(reverse("home")).content.decode()
    assert "Elsewhere Ltd" in html
    assert "Acme Insurance" not in html


def test_a_day_beyond_the_plan_is_404(client, cast):
    client.force_login(cast["facilitator"])
    assert client.get(reverse("day", args=["acme", 11])).status_code == 404
