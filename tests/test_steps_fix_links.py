"""A "Fix it" on the checks page opens the same form, pre-filled with the same fields, as the
link the day page offers for the same gap: both are built one way (workshops.views.steps.fix_link)
from the check's `Fix`."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.urls import reverse

from escalation.checks import Fix, run_checks
from escalation.models import AISystem, Threshold

END = datetime.date(2026, 11, 13)  # the last working day the checks look at


@pytest.fixture
def system(engagement: Any) -> AISystem:
    """A system in scope with two output types and no thresholds yet."""
    return AISystem.objects.create(
        framework=engagement.framework,
        key="support-bot",
        name="Support bot",
        model_name="gpt-4o",
        workflow="Answers customers",
        output_types=["chat answer", "summary"],
    )


def link_after(page: str, text: str, link_text: str) -> str:
    """The address of the first link reading `link_text` after `text` on `page`."""
    start = page.index(text)
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(link_text)}</a>', page[start:])
    assert found, f"no “{link_text}” link after “{text}”"
    return html.unescape(found.group(1))


def checks_fix(client: Any, engagement: Any, message: str) -> str:
    page = client.get(reverse("checks", args=[engagement.slug])).content.decode()
    return link_after(page, message, "Fix it")


def day_link(client: Any, engagement: Any, link_text: str) -> str:
    """The link as the day page shows it: in the thresholds editor the page loads into itself."""
    day = client.get(reverse("day", args=[engagement.slug, 1])).content.decode()
    editor = reverse("step", args=[engagement.slug, "thresholds"]) + "?embed=1"
    assert f'data-hx-get="{editor}"' in day
    return link_after(client.get(editor).content.decode(), "", link_text)


def test_an_uncovered_output_types_fix_names_the_system_and_the_output_type(system):
    problem = next(p for p in run_checks(system.framework, END) if "“summary”" in p.message)
    prefill = (("ai_system", "support-bot"), ("output_type", "summary"))
    assert problem.fix == Fix("thresholds", prefill=prefill)


def test_checks_page_and_day_page_link_an_uncovered_output_type_to_the_same_form(
    client, engagement, facilitator, system
):
    client.force_login(facilitator)
    fix = checks_fix(client, engagement, "The output type “summary” of Support bot has no bound.")
    assert fix == day_link(client, engagement, "Add thresholds for summary")


def test_both_pages_fix_opens_the_threshold_form_with_system_and_output_type_filled_in(
    client, engagement, facilitator, system
):
    client.force_login(facilitator)
    for url in (
        checks_fix(client, engagement, "The output type “summary” of Support bot has no bound."),
        day_link(client, engagement, "Add thresholds for summary"),
    ):
        form = client.get(url).content.decode()
        assert f'<option value="{system.pk}" selected>' in form
        assert 'name="output_type" value="summary"' in form


def test_a_threshold_without_a_bound_is_fixed_by_a_bound_form_for_that_threshold(
    client, engagement, facilitator, system
):
    threshold = Threshold.objects.create(
        framework=engagement.framework,
        key="support-bot-summary",
        ai_system=system,
        output_type="summary",
    )
    client.force_login(facilitator)
    fix = checks_fix(client, engagement, "The output type “summary” of Support bot has no bound.")
    form = client.get(fix).content.decode()
    assert fix.endswith("?add=bounds&threshold=support-bot-summary")
    assert f'<option value="{threshold.pk}" selected>' in form
