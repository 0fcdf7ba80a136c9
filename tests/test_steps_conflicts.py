"""Two people edit one threshold: the second save is told of the conflict, and saving again
keeps the first person's change to the fields the second person did not touch."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from escalation.models import Threshold
from tests.factories import make_member, make_user
from tests.framework_content import make_framework_content
from workshops.models import Role

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """What a browser would send from the one form on the page: its inputs, selects and
    textareas with the values they show."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if "form" in attr:
            return  # a control of another form (a picker's search box)
        if tag == "input" and attr.get("type") not in {"submit", "checkbox", "radio"}:
            self.values.append((attr["name"], attr.get("value", "")))
        elif tag == "input" and "checked" in attr:
            self.values.append((attr["name"], attr.get("value", "on")))
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "option" and self._select and "selected" in attr:
            self.values.append((self._select, attr.get("value", "")))
        elif tag == "textarea":
            self._textarea = attr["name"]
            self.values.append((self._textarea, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, text = self.values.pop()
            self.values.append((name, text + data))


def form_on(html: str, action: str) -> dict[str, list[str]]:
    form = html[html.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    parser = FormValues()
    parser.feed("<form " + form)
    data: dict[str, list[str]] = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def threshold(engagement: Any) -> Threshold:
    make_framework_content(engagement.framework)
    return Threshold.objects.filter(ai_system__framework=engagement.framework).first()


def test_the_other_persons_change_survives_the_second_save(
    client, engagement, facilitator, threshold
):
    colleague = make_member(engagement, Role.FACILITATOR, make_user("cora"))
    page = reverse("step", args=["acme", "thresholds"]) + f"?edit=thresholds:{threshold.key}"
    action = reverse("step_item_edit", args=["acme", "thresholds", "thresholds", threshold.key])
    client.force_login(colleague)
    theirs = form_on(client.get(page).content.decode(), action)
    client.force_login(facilitator)
    mine = form_on(client.get(page).content.decode(), action)

    client.force_login(colleague)
    client.post(action, theirs | {"measurement_window_hours": ["48"]})
    client.force_login(facilitator)
    refused = client.post(action, mine | {"data_source": ["Answer accuracy log"]})
    assert refused.status_code == 409
    client.post(action, form_on(refused.content.decode(), action))

    threshold.refresh_from_db()
    assert (threshold.measurement_window_hours, threshold.data_source) == (
        48,
        "Answer accuracy log",
    )


def test_the_conflict_shows_both_versions_side_by_side(client, engagement, facilitator, threshold):
    action = reverse("step_item_edit", args=["acme", "thresholds", "thresholds", threshold.key])
    page = reverse("step", args=["acme", "thresholds"]) + f"?edit=thresholds:{threshold.key}"
    client.force_login(facilitator)
    mine = form_on(client.get(page).content.decode(), action)
    Threshold.objects.filter(pk=threshold.pk).update(measurement_window_hours=4321, row_version=9)
    html = client.post(action, mine | {"data_source": ["Answer accuracy log"]}).content.decode()
    assert "Saved by the other person" in html and "4321" in html
    assert "<strong>Answer accuracy log</strong>" in html
