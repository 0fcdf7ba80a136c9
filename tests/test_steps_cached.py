"""What the step editors keep in the cache (each list's page of rows, the open form's lists of
rows) follows every edit, shows each person what their role allows, and prints what Django
prints."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.demo_framework import fill_demo_framework
from escalation.editors import STEP_EDITORS
from escalation.models import AISystem, EscalationLevel, FailureMode, ReviewCadence
from escalation.schedule import review_dates
from tests.framework_content import fill_small_framework
from workshops.views.steps import CSRF_SLOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(engagement: Any) -> dict[str, Any]:
    return fill_small_framework(engagement.framework)


def _page(client: Any, engagement: Any, key: str, query: str = "") -> str:
    return client.get(reverse("step", args=[engagement.slug, key]) + query).content.decode()


def _seen_by_each(
    client: Any, engagement: Any, first: str, facilitator: Any, observer: Any, *page: str
) -> dict[str, str]:
    """The page as the facilitator and the observer see it, `first` fetching it first (so
    into the cache)."""
    people = {"facilitator": facilitator, "observer": observer}
    seen = {}
    for name in [first, *(set(people) - {first})]:
        client.force_login(people[name])
        seen[name] = _page(client, engagement, *page)
    return seen


def _edit_url(engagement: Any, step: str, collection: str, key: str) -> str:
    return reverse("step_item_edit", args=[engagement.slug, step, collection, key])


def test_a_renamed_row_shows_its_new_name_on_the_page(client, engagement, facilitator, content):
    client.force_login(facilitator)
    assert "Claims assistant" in _page(client, engagement, "systems")  # now in the cache
    AISystem.objects.filter(key="claims-bot").update(name="Claims helper")
    html = _page(client, engagement, "systems")
    assert "Claims helper" in html
    assert "Claims assistant" not in html


def test_a_renamed_row_shows_its_new_name_in_the_lists_forms_offer(
    client, engagement, facilitator, content
):
    client.force_login(facilitator)
    assert ">Claims assistant</option>" in _page(
        client, engagement, "thresholds", "?add=thresholds"
    )
    AISystem.objects.filter(key="claims-bot").update(name="Claims helper")
    html = _page(client, engagement, "thresholds", "?add=thresholds")
    assert ">Claims helper</option>" in html
    assert "Claims assistant" not in html


@pytest.mark.parametrize("first", ["facilitator", "observer"])
def test_each_role_sees_the_rows_controls_its_role_allows_whoever_came_first(
    client, engagement, facilitator, observer, content, first
):
    seen = _seen_by_each(client, engagement, first, facilitator, observer, "ladder")
    assert 'aria-label="Edit Prompt optimization"' in seen["facilitator"]
    assert 'aria-label="Edit Prompt optimization"' not in seen["observer"]
    assert 'aria-label="Delete Prompt optimization"' not in seen["observer"]


def test_the_rows_forms_carry_the_token_of_the_request_they_are_served_to(
    engagement, facilitator, content
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator)
    _page(client, engagement, "ladder")  # the rows are now in the cache, for everyone
    html = _page(client, engagement, "ladder")
    assert CSRF_SLOT not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    move = reverse("step_item_move", args=[engagement.slug, "ladder", "levels", "fine-tuning"])
    answer = client.post(move, {"direction": "up", "csrfmiddlewaretoken": token})
    assert answer.status_code == 302
    first = EscalationLevel.objects.filter(framework=engagement.framework).first()
    assert first.key == "fine-tuning"


def test_a_rows_form_opened_again_after_a_change_shows_the_row_as_now_saved(
    client, engagement, facilitator, content
):
    client.force_login(facilitator)
    opened = "?edit=ai-systems:claims-bot"
    assert 'value="Claims assistant"' in _page(client, engagement, "systems", opened)  # cached
    AISystem.objects.filter(key="claims-bot").update(name="Claims helper")
    html = _page(client, engagement, "systems", opened)
    assert 'value="Claims helper"' in html
    assert "Claims assistant" not in html


@pytest.mark.parametrize("first", ["facilitator", "observer"])
def test_only_those_who_may_edit_see_a_rows_form_whoever_opened_it_first(
    client, engagement, facilitator, observer, content, first
):
    opened = "?edit=ai-systems:claims-bot"
    seen = _seen_by_each(client, engagement, first, facilitator, observer, "systems", opened)
    assert 'value="Claims assistant"' in seen["facilitator"]
    assert 'class="editing"' not in seen["observer"]
    assert 'name="name"' not in seen["observer"]


def test_a_rows_form_opened_again_carries_the_token_of_the_request_it_is_served_to(
    engagement, facilitator, content
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator)
    _page(client, engagement, "systems", "?edit=ai-systems:claims-bot")  # now in the cache
    html = _page(client, engagement, "systems", "?edit=ai-systems:claims-bot")
    assert CSRF_SLOT not in html
    form = re.search(r'<form method="post" action="([^"]+/edit/)".*?</form>', html, re.S)
    fields = dict(re.findall(r'<input type="[^"]+" name="([^"]+)" value="([^"]*)"', form[0]))
    fields["name"] = "Claims helper"
    answer = client.post(form[1], fields)
    assert answer.status_code == 302
    assert AISystem.objects.get(key="claims-bot").name == "Claims helper"


def test_a_form_refused_keeps_the_rows_chosen_and_says_why(
    client, engagement, facilitator, content
):
    client.force_login(facilitator)
    mode = FailureMode.objects.get(framework=engagement.framework)
    system = AISystem.objects.get(framework=engagement.framework)
    _page(client, engagement, "failure-modes", f"?edit=failure-modes:{mode.key}")  # cached
    answer = client.post(
        _edit_url(engagement, "failure-modes", "failure-modes", mode.key),
        {"name": "", "severity": mode.severity, "applies_to": [system.pk], "row_version": 1},
    )
    html = answer.content.decode()
    assert answer.status_code == 422
    assert re.search(rf'name="applies_to" value="{system.pk}"[^>]* checked>', html)
    assert "This field is required." in html


def _forms_of_every_step(framework: Any) -> list[Any]:
    """Every step form: for the first row of its list (with that row's choices selected), new,
    and refused (with its errors)."""
    built = []
    for editor in STEP_EDITORS.values():
        for collection in editor.collections:
            form_class = collection.form_class
            item = form_class._meta.model.objects.filter(framework=framework).first()
            built.append(
                lambda renderer=None, c=form_class, i=item: c(
                    instance=i, framework=framework, renderer=renderer
                )
            )
            built.append(
                lambda renderer=None, c=form_class: c(framework=framework, renderer=renderer)
            )
            built.append(
                lambda renderer=None, c=form_class: c(
                    {"row_version": "x"}, framework=framework, renderer=renderer
                )
            )
        if editor.settings_form:
            settings_form = editor.settings_form
            built.append(
                lambda renderer=None, s=settings_form: s(instance=framework, renderer=renderer)
            )
    return built


def _printed(form: Any) -> list[tuple[str, str]]:
    for field in form:
        field.field.show_hidden_initial = True  # as the editors print them, twice
    return [(str(field.label_tag()), str(field)) for field in form]


def test_every_step_form_prints_what_djangos_templates_and_widgets_print(engagement, content):
    for build in _forms_of_every_step(engagement.framework):
        ours = build()
        django = build(renderer=DjangoTemplates())  # Django's own, its templates
        for field in django.fields.values():
            field.widget.cached_options = None  # the options from the query, as Django's
        assert _printed(ours) == _printed(django), type(ours).__name__


def test_a_row_opens_in_its_form_with_its_lists_chosen_read_in_the_rows_own_query(
    engagement, content
):
    framework = engagement.framework
    forms_with_lists = 0
    for editor in STEP_EDITORS.values():
        for collection in editor.collections:
            form_class = collection.form_class
            model = form_class._meta.model
            lists = [f.name for f in model._meta.many_to_many if f.name in form_class._meta.fields]
            if not lists:
                continue
            forms_with_lists += 1
            row = model.objects.filter(framework=framework).first()
            for name in lists:  # every row the list offers, chosen last first
                offered = form_class(framework=framework).fields[name].queryset
                getattr(row, name).set(list(offered)[::-1])
            chosen = {name: sorted(r.pk for r in getattr(row, name).all()) for name in lists}
            assert all(chosen.values()), form_class.__name__
            with CaptureQueriesContext(connection) as captured:
                loaded = form_class.rows_to_edit(framework).get(pk=row.pk)
                form = form_class(instance=loaded, framework=framework)
                assert {name: sorted(form[name].value()) for name in lists} == chosen
            assert len(captured) == 1, form_class.__name__
    assert forms_with_lists == 5  # AI systems, bounds, failure modes, external triggers, sunsets


def test_the_next_review_dates_move_off_a_holiday_added_after_the_page_was_shown(
    client, engagement, facilitator
):
    fill_demo_framework(engagement.framework, datetime.date(2026, 11, 13))
    client.force_login(facilitator)
    first = ReviewCadence.objects.get(name="Operational review").first_date
    rule = {"day_rule": "nth_weekday", "ordinal": 1, "weekday": 1, "frequency": "monthly"}
    first_tuesday = review_dates({**rule, "first_date": first})[0]
    assert f'datetime="{first_tuesday.isoformat()}"' in _page(client, engagement, "review-cycle")
    engagement.holidays = [first_tuesday]
    engagement.save()
    html = _page(client, engagement, "review-cycle")
    assert f'datetime="{first_tuesday.isoformat()}"' not in html
    assert f'datetime="{(first_tuesday + datetime.timedelta(days=1)).isoformat()}"' in html
