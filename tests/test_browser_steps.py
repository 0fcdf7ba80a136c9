"""Journeys on the step pages in a real browser: inline editing through htmx, by keyboard."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from escalation.forms import PICKER_ABOVE
from escalation.models import AISystem, Bound, EscalationLevel, FailureMode
from workshops.demo import DEMO_PASSWORD, load_demo

# A screenshot of the bound picker lands here (git-ignored) for a reviewer to look at.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "steps"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username="facilitator"):
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_facilitator_renames_a_level_inline(live_server, page):
    load_demo()
    log_in(page, live_server)
    page.goto(live_server.url + reverse("step", args=["demo", "ladder"]))
    page.get_by_role("link", name="Edit Fine-tuning").click()
    page.get_by_label("Name").fill("Supervised fine-tuning")
    page.get_by_label("Name").press("Enter")
    page.get_by_role("link", name="Edit Supervised fine-tuning").wait_for()
    assert page.url.endswith(reverse("step", args=["demo", "ladder"]))  # no full page load
    assert EscalationLevel.objects.filter(name="Supervised fine-tuning").exists()


def test_facilitator_sees_a_message_beside_the_field_and_keeps_the_input(live_server, page):
    load_demo()
    log_in(page, live_server)
    page.goto(live_server.url + reverse("step", args=["demo", "systems"]))
    page.get_by_role("link", name="Add AI system", exact=True).click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add", exact=True))
    form.get_by_label("Name:", exact=True).fill("Customer-support assistant")
    form.get_by_label("Model:", exact=True).fill("gpt-5")
    form.get_by_label("Workflow / use case:", exact=True).fill("Typed workflow")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        form.get_by_role("button", name="Add", exact=True).click()
    assert posted.value.status == 422  # the form again, with its message: nothing saved
    expect(page.get_by_text("is already used in this framework")).to_be_visible()
    expect(page.get_by_label("Workflow / use case:", exact=True)).to_have_value("Typed workflow")
    assert AISystem.objects.filter(name="Customer-support assistant").count() == 1


def test_facilitator_moves_a_level_up_twice_by_keyboard(live_server, page):
    load_demo()
    log_in(page, live_server)
    page.goto(live_server.url + reverse("step", args=["demo", "ladder"]))
    page.get_by_role("button", name="Move Fine-tuning up").focus()
    page.keyboard.press("Enter")
    first_cells = page.locator("tbody tr td:first-child")
    expect(first_cells.nth(2)).to_have_text("Fine-tuning")
    page.keyboard.press("Enter")  # focus stayed on the same button after the swap
    expect(first_cells.nth(1)).to_have_text("Fine-tuning")
    levels = EscalationLevel.objects.filter(framework__engagement__slug="demo")
    assert list(levels.values_list("key", flat=True)).index("fine-tuning") == 1


def test_facilitator_enters_a_bound_with_unit_and_direction_in_one_row_from_the_day_page(
    live_server, page
):
    load_demo()
    log_in(page, live_server)
    page.goto(live_server.url + reverse("day", args=["demo", 1]))
    bounds = page.locator("#thresholds-bounds")
    bounds.get_by_role("link", name="Add bound").click()
    row = page.locator("fieldset.field-row")
    row.get_by_label("Threshold").select_option(label="Claims-triage classifier · classification")
    row.get_by_label("Metric:", exact=True).select_option(label="Custom metric")
    row.get_by_label("Metric name").fill("Brier score")
    row.get_by_label("Direction").select_option(label="at most (≤)")
    row.get_by_label("Value").fill("0.05")
    row.get_by_label("Unit or scale").select_option(label="ratio (0–1)")
    tops = {
        row.locator(f"[name={name}]").bounding_box()["y"] for name in ["direction", "value", "unit"]
    }
    assert max(tops) - min(tops) < 5  # direction, value and unit side by side
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("cell", name="≤ 0.05 Brier score", exact=True)).to_be_visible()
    assert Bound.objects.filter(metric_name="Brier score", direction="at_most").exists()


def test_facilitator_finds_a_bound_among_many_and_keeps_those_chosen(live_server, page):
    load_demo()
    mode = FailureMode.objects.get(framework__engagement__slug="demo", key="factual-error")
    chosen = list(mode.detected_by.all())
    first = Bound.objects.get(pk=chosen[0].pk)
    Bound.objects.bulk_create(  # more bounds than a form lists in full
        Bound(
            framework=first.framework,
            threshold=first.threshold,
            key=f"extra-{number}",
            position=100 + number,
            metric_kind=first.metric_kind,
            metric_name=f"extra metric {number}",
            direction=first.direction,
            value=first.value,
            unit=first.unit,
        )
        for number in range(PICKER_ABOVE)
    )
    log_in(page, live_server)
    page.goto(live_server.url + reverse("step", args=["demo", "failure-modes"]))
    page.get_by_role("link", name="Edit Factual error").click()
    # htmx wires the swapped-in form's search box when the swap settles (20 ms after it shows):
    # typing before then fires no search. A person is slower; the test waits for the settle.
    page.get_by_label("Find bounds").wait_for()
    page.wait_for_function("() => !document.querySelector('.htmx-added, .htmx-settling')")
    page.get_by_label("Find bounds").fill("claims latency")
    found = page.get_by_label("p99 ≤ 800 ms (Claims-triage classifier, classification)")
    found.check()  # listed as the search answered, without a page load
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "failure-mode-bound-picker.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Edit Factual error").wait_for()
    latency = Bound.objects.get(key="claims-triage-classification-latency")
    assert set(mode.detected_by.all()) == {*chosen, latency}
