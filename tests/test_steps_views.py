"""The step pages: who sees and who may edit, inline add / edit / delete / reorder, stale edits,
the audit trail, carried-over marks, the embeddable editor, and constant query counts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from escalation.demo_framework import fill_demo_framework
from escalation.document import item_document
from escalation.large_framework import fill_large_framework
from escalation.models import AISystem, Bound, EscalationLevel, FailureMode, Framework
from escalation.steps import STEPS
from tests.factories import make_engagement, make_member
from workshops.models import Activity, Role

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)


def step_url(engagement, key):
    return reverse("step", args=[engagement.slug, key])


def add_url(engagement, step, collection):
    return reverse("step_item_add", args=[engagement.slug, step, collection])


def edit_url(engagement, step, collection, key):
    return reverse("step_item_edit", args=[engagement.slug, step, collection, key])


def system_data(**overrides):
    data = {
        "name": "Support bot",
        "vendor": "OpenAI",
        "model_name": "gpt-4o",
        "model_version": "1",
        "workflow": "Answers customers",
        "business_owner": "Maria",
        "output_types": "chat answer, summary",
    }
    data.update(overrides)
    return data


def make_system(engagement, **fields):
    fields.setdefault("name", "Support bot")
    fields.setdefault("key", "support-bot")
    fields.setdefault("model_name", "gpt-4o")
    fields.setdefault("workflow", "Answers customers")
    fields.setdefault("output_types", ["chat answer"])
    return AISystem.objects.create(framework=engagement.framework, **fields)


@pytest.mark.parametrize("key", [step.key for step in STEPS])
def test_every_member_can_read_every_step_page(client, engagement, observer, key):
    fill_demo_framework(engagement.framework, END)
    client.force_login(observer)
    response = client.get(step_url(engagement, key))
    assert response.status_code == 200


def test_observer_sees_no_edit_controls(client, engagement, observer):
    fill_demo_framework(engagement.framework, END)
    client.force_login(observer)
    html = client.get(step_url(engagement, "ladder")).content.decode()
    assert "Fine-tuning" in html
    assert "Add level" not in html and ">Edit<" not in html


def test_facilitator_sees_edit_controls(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    html = client.get(step_url(engagement, "ladder")).content.decode()
    assert "Add level" in html and ">Edit<" in html


def test_outsider_gets_404_on_a_step_page(client, engagement, outsider):
    client.force_login(outsider)
    assert client.get(step_url(engagement, "systems")).status_code == 404


def test_unknown_step_key_is_404(client, engagement, facilitator):
    client.force_login(facilitator)
    assert client.get(step_url(engagement, "nonsense")).status_code == 404


def test_step_page_refuses_post(client, engagement, facilitator):
    client.force_login(facilitator)
    assert client.post(step_url(engagement, "systems")).status_code == 405


def test_add_refuses_get(client, engagement, facilitator):
    client.force_login(facilitator)
    assert client.get(add_url(engagement, "systems", "ai-systems")).status_code == 405


def test_facilitator_adds_an_ai_system(client, engagement, facilitator):
    client.force_login(facilitator)
    response = client.post(add_url(engagement, "systems", "ai-systems"), system_data())
    assert response.status_code == 302
    system = AISystem.objects.get(framework=engagement.framework)
    assert (system.key, system.output_types) == ("support-bot", ["chat answer", "summary"])


def test_adding_records_the_activity_with_its_values(client, engagement, facilitator):
    client.force_login(facilitator)
    client.post(add_url(engagement, "systems", "ai-systems"), system_data())
    activity = Activity.objects.get(engagement=engagement)
    assert (activity.verb, activity.anchor) == ("created", "ai_systems/support-bot")
    assert activity.changes["name"] == {"before": None, "after": "Support bot"}


@pytest.mark.parametrize("member", ["approver", "reviewer", "observer"])
def test_members_who_cannot_edit_get_403_on_add(client, engagement, request, member):
    client.force_login(request.getfixturevalue(member))
    response = client.post(add_url(engagement, "systems", "ai-systems"), system_data())
    assert response.status_code == 403
    assert not AISystem.objects.exists()


def test_outsider_gets_404_on_add(client, engagement, outsider):
    client.force_login(outsider)
    response = client.post(add_url(engagement, "systems", "ai-systems"), system_data())
    assert response.status_code == 404


def test_bad_input_shows_a_message_keeps_the_input_and_saves_nothing(
    client, engagement, facilitator
):
    client.force_login(facilitator)
    response = client.post(
        add_url(engagement, "systems", "ai-systems"), system_data(name="", vendor="Typed vendor")
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert "Typed vendor" in response.content.decode() and not AISystem.objects.exists()


def test_htmx_add_returns_the_editor_fragment(client, engagement, facilitator):
    client.force_login(facilitator)
    response = client.post(
        add_url(engagement, "systems", "ai-systems"), system_data(), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="editor-systems"') and "Support bot" in html


def test_embed_returns_only_the_editor(client, engagement, observer):
    client.force_login(observer)
    html = client.get(step_url(engagement, "thresholds") + "?embed=1").content.decode()
    assert html.lstrip().startswith('<div id="editor-thresholds"')
    assert "<html" not in html


def test_facilitator_edits_an_ai_system(client, engagement, facilitator):
    system = make_system(engagement)
    client.force_login(facilitator)
    data = system_data(name="Service bot", row_version=system.row_version)
    response = client.post(edit_url(engagement, "systems", "ai-systems", system.key), data)
    system.refresh_from_db()
    assert response.status_code == 302
    assert (system.name, system.row_version) == ("Service bot", 2)


def test_editing_records_before_and_after(client, engagement, facilitator):
    system = make_system(engagement)
    client.force_login(facilitator)
    data = system_data(name="Service bot", row_version=1)
    client.post(edit_url(engagement, "systems", "ai-systems", system.key), data)
    activity = Activity.objects.get(engagement=engagement, verb="updated")
    assert activity.changes["name"] == {"before": "Support bot", "after": "Service bot"}


def test_stale_edit_is_refused_showing_the_other_value_and_keeping_the_input(
    client, engagement, facilitator
):
    system = make_system(engagement)
    AISystem.objects.filter(pk=system.pk).update(vendor="Changed by Ann", row_version=2)
    client.force_login(facilitator)
    data = system_data(name="My typed name", row_version=1)
    response = client.post(edit_url(engagement, "systems", "ai-systems", system.key), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Changed by Ann" in html and "My typed name" in html
    assert AISystem.objects.get(pk=system.pk).name == "Support bot"


def test_stale_edit_over_htmx_answers_422_so_the_fragment_is_swapped(
    client, engagement, facilitator
):
    system = make_system(engagement)
    AISystem.objects.filter(pk=system.pk).update(row_version=2)
    client.force_login(facilitator)
    data = system_data(row_version=1)
    url = edit_url(engagement, "systems", "ai-systems", system.key)
    assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 422


def test_saving_again_after_a_stale_edit_replaces_the_other_version(
    client, engagement, facilitator
):
    system = make_system(engagement)
    AISystem.objects.filter(pk=system.pk).update(vendor="Changed by Ann", row_version=2)
    client.force_login(facilitator)
    url = edit_url(engagement, "systems", "ai-systems", system.key)
    client.post(url, system_data(name="Mine", row_version=1))
    client.post(url, system_data(name="Mine", row_version=2))
    assert AISystem.objects.get(pk=system.pk).name == "Mine"


def test_facilitator_deletes_a_row_and_it_is_recorded(client, engagement, facilitator):
    system = make_system(engagement)
    client.force_login(facilitator)
    url = reverse("step_item_delete", args=[engagement.slug, "systems", "ai-systems", system.key])
    client.post(url)
    assert not AISystem.objects.exists()
    assert Activity.objects.get(verb="deleted").changes["name"]["before"] == "Support bot"


def test_observer_cannot_delete(client, engagement, observer):
    system = make_system(engagement)
    client.force_login(observer)
    url = reverse("step_item_delete", args=[engagement.slug, "systems", "ai-systems", system.key])
    assert client.post(url).status_code == 403
    assert AISystem.objects.exists()


def test_governance_step_cannot_delete_levels(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    url = reverse("step_item_delete", args=[engagement.slug, "governance", "levels", "fine-tuning"])
    assert client.post(url).status_code == 404


def test_moving_a_level_up_swaps_it_with_the_one_above(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    url = reverse("step_item_move", args=[engagement.slug, "ladder", "levels", "fine-tuning"])
    client.post(url, {"direction": "up"})
    order = list(
        EscalationLevel.objects.filter(framework=engagement.framework).values_list("key", flat=True)
    )
    assert order[2:4] == ["fine-tuning", "few-shot-enrichment"]


def test_moving_the_top_row_up_changes_nothing(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    url = reverse(
        "step_item_move", args=[engagement.slug, "ladder", "levels", "prompt-optimization"]
    )
    client.post(url, {"direction": "up"})
    assert not Activity.objects.filter(verb="moved").exists()


def test_bound_edit_with_out_of_range_values_saves_nothing(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    bound = Bound.objects.get(key="claims-triage-classification-macro-f1")
    client.force_login(facilitator)
    data = {
        "threshold": bound.threshold_id,
        "metric_kind": "quality",
        "metric_name": "macro F1",
        "direction": "at_least",
        "value": "88",  # a ratio typed as a percentage
        "unit": "ratio",
        "window_hours": "0",
        "trigger_breaches": "6",
        "trigger_windows": "5",
        "row_version": "1",
    }
    url = edit_url(engagement, "thresholds", "bounds", bound.key)
    response = client.post(url, data)
    assert response.status_code == 422
    assert "A ratio lies between 0 and 1" in response.content.decode()
    assert Bound.objects.get(pk=bound.pk).value == bound.value


def test_thresholds_page_shows_a_table_per_ai_system_and_uncovered_output_types(
    client, engagement, observer
):
    make_system(engagement, output_types=["chat answer", "summary"])
    client.force_login(observer)
    html = client.get(step_url(engagement, "thresholds")).content.decode()
    assert "<h3>Support bot" in html
    assert "No thresholds for “summary” yet." in html


def test_review_cycle_settings_save_and_are_recorded(client, engagement, facilitator):
    client.force_login(facilitator)
    url = reverse("step_settings", args=[engagement.slug, "review-cycle"])
    data = {"sunset_criteria": "Roll back after two good cycles.", "row_version": "1"}
    client.post(url, data)
    framework = Framework.objects.get(pk=engagement.framework.pk)
    assert (framework.sunset_criteria, framework.row_version) == (data["sunset_criteria"], 2)
    assert (
        Activity.objects.get(anchor="framework").changes["sunset_criteria"]["after"]
        == data["sunset_criteria"]
    )


def test_stale_settings_edit_is_refused(client, engagement, facilitator):
    Framework.objects.filter(pk=engagement.framework.pk).update(row_version=5)
    client.force_login(facilitator)
    url = reverse("step_settings", args=[engagement.slug, "governance"])
    data = {
        "currency": "EUR",
        "scope_creep_rule": "Mine",
        "overrun_rule": "Stop.",
        "row_version": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 409
    assert Framework.objects.get(pk=engagement.framework.pk).scope_creep_rule != "Mine"


def test_settings_on_a_step_without_settings_is_404(client, engagement, facilitator):
    client.force_login(facilitator)
    url = reverse("step_settings", args=[engagement.slug, "systems"])
    assert client.post(url, {}).status_code == 404


def test_governance_edit_of_a_group_rule_without_a_group_is_refused(
    client, engagement, facilitator
):
    fill_demo_framework(engagement.framework, END)
    level = EscalationLevel.objects.get(key="prompt-optimization")
    client.force_login(facilitator)
    data = {
        "approval_owner_name": "Priya",
        "approval_rule": "all_of_group",
        "approval_group": "",
        "currency": "eu",
        "row_version": "1",
    }
    response = client.post(edit_url(engagement, "governance", "levels", level.key), data)
    html = response.content.decode()
    assert "Name the group whose approval is required." in html
    assert "three-letter ISO currency code" in html


def test_carried_over_rows_are_marked_changed_or_not(client, engagement, observer):
    fill_demo_framework(engagement.framework, END)
    unchanged = FailureMode.objects.get(key="hallucination")
    unchanged.carried_over = item_document("failure_modes", unchanged)
    unchanged.save()
    changed = FailureMode.objects.get(key="format-violation")
    changed.carried_over = {**item_document("failure_modes", changed), "severity": "low"}
    changed.save()
    client.force_login(observer)
    html = client.get(step_url(engagement, "failure-modes")).content.decode()
    assert html.count('Changed since last cycle</span> <small class="muted">severity<') == 1
    assert html.count("Carried over</span>") == 1


def test_failure_mode_can_point_only_to_levels_of_its_own_framework(
    client, engagement, facilitator
):
    other = Framework.objects.create(name="Other")
    foreign = EscalationLevel.objects.create(framework=other, key="x", name="X")
    client.force_login(facilitator)
    data = {"name": "Leak", "kind": "custom", "severity": "high", "recommended_level": foreign.pk}
    response = client.post(add_url(engagement, "failure-modes", "failure-modes"), data)
    assert response.status_code == 422 and not FailureMode.objects.exists()


@pytest.mark.parametrize("key", [step.key for step in STEPS])
def test_step_page_query_count_does_not_grow_with_rows(
    client, engagement, facilitator, django_assert_num_queries, key
):
    # Session, user, membership+engagement+framework; the draft's revision and the report on it
    # (completion, gaps) cached under it; the revision again and the page of each list as shown
    # (its rows' HTML, the review dates), cached under it. The first request after a write
    # also reports on the draft and loads each list's page (its count, rows and prefetches).
    client.force_login(facilitator)
    fill_demo_framework(engagement.framework, END)
    client.get(step_url(engagement, key))  # warm up: counts below are per request
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(step_url(engagement, key))
    expected = len(small)  # now: the query log is a bounded deque, and the fill below is long
    large = make_engagement(slug="large")
    make_member(large, Role.FACILITATOR, facilitator)
    fill_large_framework(large.framework)
    client.get(step_url(large, key))
    with django_assert_num_queries(expected):
        client.get(step_url(large, key))


def test_facilitator_opens_a_row_for_editing_with_its_row_version(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    response = client.get(step_url(engagement, "ladder") + "?edit=levels:fine-tuning")
    html = response.content.decode()
    assert 'name="row_version" value="1"' in html and "autofocus" in html


def test_observer_asking_to_edit_gets_the_read_only_page(client, engagement, observer):
    fill_demo_framework(engagement.framework, END)
    client.force_login(observer)
    html = client.get(step_url(engagement, "ladder") + "?edit=levels:fine-tuning").content.decode()
    assert 'name="row_version"' not in html


def test_approver_cannot_edit_thresholds(client, engagement, approver):
    fill_demo_framework(engagement.framework, END)
    client.force_login(approver)
    url = edit_url(engagement, "thresholds", "thresholds", "claims-triage-classification")
    assert client.post(url, {"data_source": "x"}).status_code == 403


def test_editing_an_unknown_row_is_404(client, engagement, facilitator):
    client.force_login(facilitator)
    url = edit_url(engagement, "systems", "ai-systems", "ghost")
    assert client.post(url, system_data(row_version=1)).status_code == 404


def test_an_unknown_list_on_a_step_is_404(client, engagement, facilitator):
    client.force_login(facilitator)
    assert client.post(add_url(engagement, "systems", "levels"), {}).status_code == 404


def test_adding_a_threshold_from_an_uncovered_output_type_prefills_the_form(
    client, engagement, facilitator
):
    system = make_system(engagement, output_types=["chat answer", "summary"])
    client.force_login(facilitator)
    query = f"?add=thresholds&ai_system={system.key}&output_type=summary"
    html = client.get(step_url(engagement, "thresholds") + query).content.decode()
    assert f'<option value="{system.pk}" selected>' in html
    assert 'name="output_type" value="summary"' in html


def test_bound_edit_links_levels_and_records_them(client, engagement, facilitator):
    fill_demo_framework(engagement.framework, END)
    bound = Bound.objects.get(key="support-assistant-summary-summary-faithfulness")
    level = EscalationLevel.objects.get(framework=engagement.framework, key="hybrid-routing")
    client.force_login(facilitator)
    data = {
        "threshold": bound.threshold_id,
        "metric_kind": "quality",
        "metric_name": "summary faithfulness",
        "direction": "at_least",
        "value": "0.9",
        "unit": "ratio",
        "escalates_to": [str(level.pk)],
        "row_version": "1",
    }
    client.post(edit_url(engagement, "thresholds", "bounds", bound.key), data)
    change = Activity.objects.get(verb="updated").changes["escalates_to"]
    assert change == {"before": ["retrieval-augmentation"], "after": [level.key]}


def test_an_htmx_save_tells_the_other_panels_that_the_framework_changed(
    client, engagement, facilitator
):
    client.force_login(facilitator)
    response = client.post(
        add_url(engagement, "systems", "ai-systems"), system_data(), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Trigger"] == "framework-changed"


def test_the_editor_fragment_carries_the_steps_new_completion(client, engagement, facilitator):
    client.force_login(facilitator)
    response = client.post(
        add_url(engagement, "systems", "ai-systems"), system_data(), HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="completion-systems">100%' in response.content.decode()
