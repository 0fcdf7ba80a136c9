"""A failure mode's bounds in a large framework: the form lists the bounds chosen and a search for
the others (a plain GET of the editor's page, or its choices alone by htmx), and saving it keeps
exactly the bounds chosen, shown or not."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.forms import PICKER_ABOVE, FailureModeForm
from escalation.large_framework import fill_large_framework
from escalation.models import Bound, FailureMode
from tests.factories import make_engagement, make_member
from tests.framework_content import fill_small_framework
from tests.test_steps_conflicts import form_on
from workshops.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def mode(engagement: Any) -> FailureMode:
    """A failure mode detected by two of the framework's 180 bounds (20 AI systems)."""
    framework = engagement.framework
    fill_large_framework(framework, systems=20, failure_modes=2, levels=4, drift_triggers=1)
    mode = FailureMode.objects.filter(framework=framework).first()
    mode.detected_by.set(Bound.objects.filter(framework=framework).order_by("pk")[3:5])
    return mode


def _page(engagement: Any, mode: FailureMode, query: str = "") -> str:
    url = reverse("step", args=[engagement.slug, "failure-modes"])
    return f"{url}?edit=failure-modes:{mode.key}{query}"


def _action(engagement: Any, mode: FailureMode) -> str:
    return reverse(
        "step_item_edit", args=[engagement.slug, "failure-modes", "failure-modes", mode.key]
    )


def _chosen(mode: FailureMode) -> list[int]:
    return sorted(mode.detected_by.values_list("pk", flat=True))


def test_a_long_list_shows_only_the_bounds_chosen_and_how_many_there_are(
    client, engagement, facilitator, mode
):
    client.force_login(facilitator)
    html = client.get(_page(engagement, mode)).content.decode()
    assert html.count('name="detected_by"') == 2
    assert "Bounds chosen: 2 of 180." in html
    assert Bound.objects.filter(framework=engagement.framework).count() > PICKER_ABOVE


def test_saving_the_form_as_shown_keeps_every_bound_chosen(client, engagement, facilitator, mode):
    client.force_login(facilitator)
    before = _chosen(mode)
    sent = form_on(client.get(_page(engagement, mode)).content.decode(), _action(engagement, mode))
    sent["name"] = ["Renamed failure mode"]
    assert client.post(_action(engagement, mode), sent).status_code == 302
    mode.refresh_from_db()
    assert (mode.name, _chosen(mode)) == ("Renamed failure mode", before)


def test_a_search_lists_the_matching_bounds_not_chosen_yet(client, engagement, facilitator, mode):
    client.force_login(facilitator)
    html = client.get(_page(engagement, mode, "&detected_by-q=latency+system+007")).content.decode()
    assert html.count('name="detected_by"') == 2 + 3  # system 007's three latency bounds
    assert "p95 ≤ 1,500 ms (AI system 007, output-1)" in html
    assert "Other bounds matching “latency system 007”: 3." in html


def test_a_bound_ticked_in_a_search_is_saved_with_the_others(client, engagement, facilitator, mode):
    client.force_login(facilitator)
    html = client.get(_page(engagement, mode, "&detected_by-q=system+007+output-1+latency"))
    sent = form_on(html.content.decode(), _action(engagement, mode))
    found = Bound.objects.get(threshold__key="system-007-output-1", metric_kind="latency")
    sent["detected_by"] = [*sent["detected_by"], str(found.pk)]
    assert client.post(_action(engagement, mode), sent).status_code == 302
    assert found.pk in _chosen(mode)
    assert len(_chosen(mode)) == 3


def test_the_htmx_search_answers_the_choices_alone_keeping_the_boxes_checked_so_far(
    client, engagement, facilitator, mode
):
    client.force_login(facilitator)
    ticked = Bound.objects.get(threshold__key="system-011-output-0", metric_kind="latency")
    query = f"&picker=detected_by&detected_by-q=system+012&detected_by={ticked.pk}"
    html = client.get(_page(engagement, mode, query), headers={"HX-Request": "true"})
    html = html.content.decode()
    assert html.startswith('<div id="id_detected_by-choices"')
    assert f'value="{ticked.pk}" id="id_detected_by_0" checked>' in html
    assert "Bounds chosen: 1 of 180." in html
    assert "Other bounds matching “system 012”: 9." in html


def test_a_refused_form_keeps_the_bounds_sent_and_says_why(client, engagement, facilitator, mode):
    client.force_login(facilitator)
    sent = form_on(client.get(_page(engagement, mode)).content.decode(), _action(engagement, mode))
    sent["name"] = [""]
    answer = client.post(_action(engagement, mode), sent)
    html = answer.content.decode()
    assert answer.status_code == 422
    assert all(f'value="{pk}" id="id_detected_by_' in html for pk in _chosen(mode))
    assert "This field is required." in html


@pytest.mark.parametrize(("person", "status"), [("observer", 403), ("outsider", 404)])
def test_only_those_who_may_edit_search_a_picker(client, engagement, mode, request, person, status):
    client.force_login(request.getfixturevalue(person))
    query = "&picker=detected_by&detected_by-q=latency"
    assert client.get(_page(engagement, mode, query)).status_code == status


def test_a_short_list_has_no_search_to_answer(client, engagement, facilitator, mode):
    client.force_login(facilitator)
    query = "&picker=applies_to&applies_to-q=system"  # 20 AI systems: all listed
    assert client.get(_page(engagement, mode, query)).status_code == 404


def _queries(client: Any, url: str) -> int:
    client.get(url)  # the lists' options and counts are now cached
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_picker_takes_the_queries_of_a_list_printed_in_full(
    client, engagement, facilitator, mode
):
    """Opened again, a row's form comes printed (once per content revision), whether its
    lists print in full or as pickers. Printing it, a picker reads its chosen rows' labels in
    one query, however many rows it offers or has chosen (test_steps_cached)."""
    small = make_engagement(slug="small")
    fill_small_framework(small.framework)
    make_member(small, Role.FACILITATOR, facilitator)
    small_mode = FailureMode.objects.get(framework=small.framework)
    small_mode.detected_by.set(Bound.objects.filter(framework=small.framework))
    client.force_login(facilitator)
    assert _queries(client, _page(small, small_mode)) == _queries(client, _page(engagement, mode))


@pytest.mark.parametrize("chosen", [2, 40])
def test_printing_a_picker_reads_its_chosen_rows_in_one_query(engagement, mode, chosen):
    framework = engagement.framework
    mode.detected_by.set(Bound.objects.filter(framework=framework).order_by("pk")[:chosen])
    form = FailureModeForm(
        instance=FailureModeForm.rows_to_edit(framework).get(pk=mode.pk), framework=framework
    )
    str(form["then_levels"])  # the form's lists are read (once per content revision)
    with CaptureQueriesContext(connection) as captured:
        printed = str(form["detected_by"])
    assert len(captured) == 1
    assert printed.count(" checked>") == chosen
