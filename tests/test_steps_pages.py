"""Long lists in the step editors come a page at a time, and every way to a row (its Edit link,
a fix link from the checks, a save, a move) lands on the page that shows it."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.urls import reverse

from escalation.forms import CheckboxList, FastSelect
from escalation.large_framework import fill_large_framework
from escalation.models import AISystem, Threshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def sixty_systems(engagement: Any) -> list[AISystem]:
    fill_large_framework(engagement.framework, systems=60, levels=3, failure_modes=3)
    return list(AISystem.objects.filter(framework=engagement.framework))


def _step(engagement: Any, key: str, query: str = "") -> str:
    return reverse("step", args=[engagement.slug, key]) + query


def _page(client: Any, url: str, **headers: Any) -> str:
    return client.get(url, headers=headers).content.decode()


def test_a_long_list_comes_fifty_rows_a_page_and_says_how_many(
    client, engagement, facilitator, sixty_systems
):
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "systems"))
    assert "Showing 1–50 of 60 rows" in html
    assert 'id="row-ai-systems-system-049"' in html
    assert 'id="row-ai-systems-system-050"' not in html


def test_the_next_page_shows_the_rest(client, engagement, facilitator, sixty_systems):
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "systems", "?ai-systems-page=2"))
    assert "Showing 51–60 of 60 rows" in html
    assert 'id="row-ai-systems-system-050"' in html
    assert 'id="row-ai-systems-system-049"' not in html


def test_opening_a_row_on_a_later_page_opens_that_page(
    client, engagement, facilitator, sixty_systems
):
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "systems", "?edit=ai-systems:system-055"))
    assert "Showing 51–60 of 60 rows" in html
    assert "Editing AI system “AI system 055”" in html


def test_saving_a_row_on_a_later_page_comes_back_to_that_page(
    client, engagement, facilitator, sixty_systems
):
    client.force_login(facilitator)
    system = AISystem.objects.get(key="system-055")
    url = reverse("step_item_edit", args=[engagement.slug, "systems", "ai-systems", system.key])
    data = {
        "name": "Renamed system",
        "model_name": system.model_name,
        "workflow": system.workflow,
        "output_types": ", ".join(system.output_types),
        "row_version": system.row_version,
    }
    response = client.post(url, data)
    assert response.url == _step(engagement, "systems", "?ai-systems-page=2")


def test_an_htmx_save_shows_the_page_it_was_sent_from(
    client, engagement, facilitator, sixty_systems
):
    client.force_login(facilitator)
    system = AISystem.objects.get(key="system-003")  # on page 1, saved from page 2's address
    url = reverse("step_item_move", args=[engagement.slug, "systems", "ai-systems", system.key])
    page_two = "http://testserver" + _step(engagement, "systems", "?ai-systems-page=2")
    response = client.post(
        url, {"direction": "down"}, headers={"HX-Request": "true", "HX-Current-URL": page_two}
    )
    assert "Showing 1–50 of 60 rows" in response.content.decode()  # the moved row's page


def test_only_the_very_first_row_cannot_move_up(client, engagement, facilitator, sixty_systems):
    client.force_login(facilitator)
    first_page = _page(client, _step(engagement, "systems"))
    second_page = _page(client, _step(engagement, "systems", "?ai-systems-page=2"))
    assert 'aria-label="Move AI system 000 up" disabled' in first_page
    assert 'aria-label="Move AI system 049 down" disabled' not in first_page
    assert 'aria-label="Move AI system 050 up" disabled' not in second_page
    assert 'aria-label="Move AI system 059 down" disabled' in second_page


def test_thresholds_come_ten_ai_systems_a_page(client, engagement, facilitator, sixty_systems):
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "thresholds"))
    assert "Showing 1–10 of 60 AI systems" in html
    assert "<h3>AI system 009 <small" in html and "<h3>AI system 010 <small" not in html


def test_a_fix_link_to_a_threshold_on_a_later_page_lands_on_it(
    client, engagement, facilitator, sixty_systems
):
    threshold = Threshold.objects.filter(ai_system__key="system-042").first()
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "thresholds", f"?edit=thresholds:{threshold.key}"))
    assert "Showing 41–50 of 60 AI systems" in html
    assert f'id="row-thresholds-{threshold.key}" class="editing"' in html


def test_paging_links_keep_the_other_lists_pages(client, engagement, facilitator, sixty_systems):
    client.force_login(facilitator)
    html = _page(client, _step(engagement, "thresholds", "?bounds-page=2"))
    assert "?bounds-page=2&amp;thresholds-page=2" in html


def test_a_checkbox_list_prints_what_djangos_prints():
    choices = [("a", "Fine-tuning <large>"), ("b", "Retrieval")]

    class Both(forms.Form):
        django = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple)
        ours = forms.MultipleChoiceField(choices=choices, widget=CheckboxList)

    form = Both(initial={"django": ["a"], "ours": ["a"]})
    assert str(form["ours"]).replace("ours", "django") == str(form["django"])


def test_a_drop_down_prints_what_djangos_prints():
    choices = [("", "---"), ("a", "Fine-tuning <large>"), ("Group", [("b", "Retrieval")])]

    class Both(forms.Form):
        django = forms.ChoiceField(choices=choices, widget=forms.Select)
        ours = forms.ChoiceField(choices=choices, widget=FastSelect)

    form = Both(initial={"django": "a", "ours": "a"})
    assert str(form["ours"]).replace("ours", "django") == str(form["django"])
