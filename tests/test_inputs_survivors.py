"""Hostile text in every text field of every step form, through the real views: a value is
saved or refused beside its field, never a server error; and a version frozen from whatever was
saved still renders every artifact, every file and the PDF pack."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django import forms
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from escalation.demo_framework import fill_demo_framework
from escalation.forms import (
    AISystemForm,
    BoundForm,
    DriftTriggerForm,
    ExternalTriggerForm,
    FailureModeForm,
    GovernanceLevelForm,
    GovernanceRulesForm,
    LadderLevelForm,
    ReviewCadenceForm,
    ReviewCycleForm,
    ThresholdForm,
)
from escalation.models import (
    AISystem,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Pack,
    PackStatus,
    ReviewCadence,
    Threshold,
)
from tests.inputs import few_examples, hostile_text, rolled_back, server_did_not_fail
from tests.test_inputs_workshops import post_and_check
from workshops.models import Engagement

# (step, collection, model, form): every editable list of the five steps.
TARGETS = [
    ("systems", "ai-systems", AISystem, AISystemForm),
    ("thresholds", "thresholds", Threshold, ThresholdForm),
    ("thresholds", "bounds", Bound, BoundForm),
    ("failure-modes", "failure-modes", FailureMode, FailureModeForm),
    ("ladder", "levels", EscalationLevel, LadderLevelForm),
    ("governance", "levels", EscalationLevel, GovernanceLevelForm),
    ("review-cycle", "drift-triggers", DriftTrigger, DriftTriggerForm),
    ("review-cycle", "external-triggers", ExternalTrigger, ExternalTriggerForm),
    ("review-cycle", "cadences", ReviewCadence, ReviewCadenceForm),
]
SETTINGS = [("governance", GovernanceRulesForm), ("review-cycle", ReviewCycleForm)]

# Text that must be stored and drawn as typed (the characters DOT, CSV, mail and iCalendar
# treat specially), and text that must be refused beside its field.
SURVIVORS = [
    "Acme\\",
    'He said "stop" \\"',
    "O'Brien; a, b \\n c",
    "<b>&amp;</b> =1+1",
    "line one\nline two\ttabbed",
    "\u202e\ufeff reversed",
]


def text_fields(form: forms.BaseForm) -> list[str]:
    return [
        name
        for name, field in form.fields.items()
        if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.HiddenInput)
    ]


def edit_data(form: forms.BaseForm) -> dict[str, Any]:
    """What the edit form posts back unchanged: each field's shown value."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def edit(client: Client, step: str, collection: str, item: Any, form_class: Any, **values: Any):
    form = form_class(instance=item, framework=item.framework)
    url = reverse("step_item_edit", args=["acme", step, collection, item.key])
    return client.post(url, edit_data(form) | values)


@pytest.fixture
def filled(engagement: Engagement) -> Engagement:
    fill_demo_framework(engagement.framework, engagement.start_date)
    return engagement


@few_examples
@given(data=st.data(), target=st.sampled_from(TARGETS), text=hostile_text)
def test_any_text_in_any_step_field_is_saved_or_refused_never_a_server_error(
    client, filled, facilitator, data, target, text
):
    step, collection, model, form_class = target
    item = model.objects.filter(framework=filled.framework).first()
    field = data.draw(st.sampled_from(text_fields(form_class(framework=filled.framework))))
    client.force_login(facilitator)
    with rolled_back():
        form = form_class(instance=item, framework=filled.framework)
        url = reverse("step_item_edit", args=["acme", step, collection, item.key])
        post_and_check(client, url, edit_data(form) | {field: text})


@pytest.mark.django_db(transaction=True)  # the worker closes connections: commit for real
def test_a_version_frozen_from_every_surviving_value_renders_every_artifact_and_the_pack(
    client, filled, facilitator
):
    client.force_login(facilitator)
    survivors = itertools.cycle(SURVIVORS)
    for step, collection, model, form_class in TARGETS:
        for item in model.objects.filter(framework=filled.framework):
            for field in text_fields(form_class(framework=filled.framework)):
                item.refresh_from_db()
                # A number keeps values of unique fields (names) apart.
                value = f"{next(survivors)} {item.pk}{field}"
                server_did_not_fail(
                    edit(client, step, collection, item, form_class, **{field: value})
                )
    for step, form_class in SETTINGS:
        filled.framework.refresh_from_db()
        form = form_class(instance=filled.framework)
        data = edit_data(form) | {name: next(survivors) for name in text_fields(form)}
        server_did_not_fail(client.post(reverse("step_settings", args=["acme", step]), data))
    settings_data = {
        "client_organisation": 'Acme\\ "Insurance"; Ltd, \\n',
        "title": "Cycle 2 \\",
        "scope_summary": "line\nline",
        "start_date": "2026-11-02",
        "working_days": "10",
        "timezone": "UTC",
    }
    client.post(reverse("engagement_settings", args=["acme"]), settings_data)
    freeze = client.post(reverse("version_freeze", args=["acme"]), {"summary": "All of it \\"})
    assert freeze.status_code == 302
    assert "Acme\\" in str(filled.framework.versions.get().document)  # survivors were saved

    for name in [
        "artifacts",
        "ladder_svg",
        "ladder_png",
        "register_csv",
        "matrix_csv",
        "ladder_csv",
        "review_cycle_ics",
        "document_json",
    ]:
        response = client.get(reverse(f"version_{name}", args=["acme", 1]))
        assert response.status_code == 200, name
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert Pack.objects.get().status == PackStatus.READY
