"""The longest value every text field accepts and the latest date every date field accepts, through
the real views: a version frozen from them renders every artifact, every file and the PDF pack
(tests/test_inputs_survivors.py does the same for the characters renderers treat specially)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.test import Client
from django.urls import reverse

from escalation.demo_framework import fill_demo_framework
from escalation.models import Pack, PackStatus
from escalation.text import LATEST_DATE
from tests.inputs import server_did_not_fail
from tests.test_inputs_survivors import SETTINGS, TARGETS, edit, edit_data
from tests.worker import run_worker
from workshops.forms import EngagementSettingsForm
from workshops.models import Engagement
from workshops.review_forms import FreezeForm

# Long text without a column limit: pages of it, with the characters DOT and CSV escape.
UNBOUNDED = 3000
FILLER = itertools.cycle(['Acme\\ "quoted", ', "line\nbreak; "])


def longest(field: forms.Field, distinct: str) -> str:
    """As long as `field` takes, ending in `distinct` (values of unique fields stay apart)."""
    if isinstance(field, SimpleArrayField):  # a list: its longest item
        field = field.base_field
    limit = getattr(field, "max_length", None) or UNBOUNDED
    if not isinstance(field.widget, forms.Textarea):
        return ("W" * limit)[: limit - len(distinct)] + distinct
    return (next(FILLER) * limit)[: limit - len(distinct)] + distinct


def extreme_values(form: forms.BaseForm, distinct: str) -> dict[str, Any]:
    """The longest text and the latest date each visible text or date field of `form` takes."""
    values: dict[str, Any] = {}
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.HiddenInput):
            continue
        if isinstance(field, forms.DateField):
            values[name] = LATEST_DATE.isoformat()
        elif isinstance(field, forms.CharField):
            values[name] = longest(field, distinct)
    return values


@pytest.fixture
def filled(engagement: Engagement) -> Engagement:
    fill_demo_framework(engagement.framework, engagement.start_date)
    return engagement


@pytest.mark.django_db(transaction=True)  # the worker closes connections: commit for real
def test_a_version_frozen_from_the_longest_values_and_latest_dates_renders_everything(
    client: Client, filled: Engagement, facilitator: Any
):
    client.force_login(facilitator)
    # One field at a time: a value another rule refuses (an output type the system lacks, a
    # currency code) is refused beside its field and leaves the rest to be tried.
    for step, collection, model, form_class in TARGETS:
        item = model.objects.filter(framework=filled.framework).first()
        for name, value in extreme_values(form_class(framework=filled.framework), " 1").items():
            item.refresh_from_db()
            server_did_not_fail(edit(client, step, collection, item, form_class, **{name: value}))
    for step, form_class in SETTINGS:
        filled.framework.refresh_from_db()
        form = form_class(instance=filled.framework)
        data = edit_data(form) | extreme_values(form, "")
        server_did_not_fail(client.post(reverse("step_settings", args=["acme", step]), data))
    settings_form = EngagementSettingsForm(instance=filled)
    settings_data = edit_data(settings_form) | extreme_values(settings_form, "")
    server_did_not_fail(client.post(reverse("engagement_settings", args=["acme"]), settings_data))
    summary = longest(FreezeForm().fields["summary"], "")
    freeze = client.post(reverse("version_freeze", args=["acme"]), {"summary": summary})
    assert freeze.status_code == 302
    filled.refresh_from_db()
    assert filled.start_date == LATEST_DATE
    document = str(filled.framework.versions.get().document)
    assert "W" * 100 in document and LATEST_DATE.isoformat() in document  # the extremes were saved

    for name in [
        "artifacts",
        "ladder_svg",
        "ladder_png",
        "register_csv",
        "matrix_csv",
        "review_cycle_ics",
        "document_json",
        "pack",
    ]:
        response = client.get(reverse(f"version_{name}", args=["acme", 1]))
        assert response.status_code == 200, name
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    run_worker()
    pack = Pack.objects.get()
    assert (pack.status, pack.error) == (PackStatus.READY, "")
