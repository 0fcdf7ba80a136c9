"""Framework model v2 checks and failure-mode response paths, through the pages that show them."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db.models import Q
from django.urls import reverse
from hypothesis import HealthCheck, settings

from escalation.demo_framework import fill_demo_framework
from escalation.document import build_document, export_text
from escalation.document_reader import read_document
from escalation.models import (
    AISystem,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    ReviewCadence,
    Threshold,
)
from tests.framework_content import make_bound

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Checks, through the checks page.


def _checks_html(client, facilitator, engagement):
    client.force_login(facilitator)
    return client.get(reverse("checks", args=[engagement.slug])).content.decode()


def test_a_bound_that_escalates_nowhere_is_flagged(client, facilitator, engagement):
    fill_demo_framework(engagement.framework, END)
    Bound.objects.get(key="claims-triage-classification-macro-f1").escalates_to.clear()
    html = _checks_html(client, facilitator, engagement)
    assert (
        "The bound “≥ 0.88 macro F1” of Claims-triage classifier · classification escalates to no level."
        in html
    )


def test_bounds_that_all_escalate_somewhere_raise_nothing(client, facilitator, engagement):
    fill_demo_framework(engagement.framework, END)
    assert "escalates to no level" not in _checks_html(client, facilitator, engagement)


def test_an_output_type_with_no_bound_is_flagged(client, facilitator, engagement):
    fill_demo_framework(engagement.framework, END)
    Bound.objects.filter(threshold__key="document-extraction-summary").delete()
    html = _checks_html(client, facilitator, engagement)
    assert "The output type “summary” of Document-extraction pipeline has no bound." in html


def test_every_output_type_with_a_bound_raises_nothing(client, facilitator, engagement):
    fill_demo_framework(engagement.framework, END)
    assert "has no bound" not in _checks_html(client, facilitator, engagement)


def test_a_bound_for_all_outputs_covers_every_output_type(client, facilitator, engagement):
    framework = engagement.framework
    system = AISystem.objects.create(
        framework=framework,
        key="bot",
        name="Bot",
        model_name="m",
        workflow="w",
        output_types=["chat", "summary"],
    )
    threshold = Threshold.objects.create(framework=framework, key="bot-all", ai_system=system)
    level = EscalationLevel.objects.create(framework=framework, key="prompt", name="Prompt")
    make_bound(threshold).escalates_to.add(level)
    assert "has no bound" not in _checks_html(client, facilitator, engagement)


def test_the_documented_example_imports_and_exports_unchanged():
    text = (django_settings.BASE_DIR / "docs" / "framework-document.md").read_text()
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    framework = read_document(example)
    exported = build_document(framework, working_days=example["working_days"])
    assert export_text(exported) == export_text(example)


@pytest.fixture
def demo(engagement):
    fill_demo_framework(engagement.framework, END)
    return engagement


def _level(engagement, key):
    return EscalationLevel.objects.filter(framework=engagement.framework, key=key)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda e: _level(e, "few-shot-enrichment").update(entry_criteria=""),
            "“Few-shot enrichment” states no entry criteria.",
        ),
        (
            lambda e: _level(e, "few-shot-enrichment").update(
                estimated_cost_low=None, estimated_cost_high=None
            ),
            "“Few-shot enrichment” has no cost estimate.",
        ),
        (
            lambda e: _level(e, "few-shot-enrichment").update(estimated_cost_high=Decimal(41_000)),
            "The cost estimate of “Few-shot enrichment” (EUR 20,000–41,000 one-off) is above "
            "its ceiling (EUR 40,000 one-off).",
        ),
        (
            lambda e: _level(e, "fine-tuning").update(approval_rule="single", approval_group=""),
            "“Fine-tuning” is approved by a single person: Fine-tuning usually needs a group.",
        ),
        (
            lambda e: _level(e, "fine-tuning").update(currency="USD"),
            "The cost ceiling of “Fine-tuning” is in USD and that of “Few-shot enrichment” below "
            "it in EUR: they cannot be compared.",
        ),
        (
            lambda e: FailureMode.objects.filter(kind="format_violation").update(
                resolution_owner="", long_term_fix=""
            ),
            "The failure type “Format violation” has no resolution owner and no long-term fix.",
        ),
        (
            lambda e: FailureMode.objects.filter(kind="hallucination").update(
                immediate_mitigation=""
            ),
            "The critical failure type “Hallucination” has no immediate mitigation.",
        ),
        (
            lambda e: DriftTrigger.objects.filter(
                Q(ai_system=None) | Q(ai_system__key="claims-triage")
            ).delete(),
            "Claims-triage classifier has no drift trigger.",
        ),
        (
            lambda e: ExternalTrigger.objects.filter(
                event__in=["foundation_model_update", "model_deprecation"]
            ).delete(),
            "Customer-support assistant is hosted by OpenAI, but no model-update or deprecation "
            "trigger covers it.",
        ),
        (
            lambda e: ReviewCadence.objects.filter(name="Framework review").update(
                first_date=datetime.date(2027, 2, 13), shift="none"
            ),
            "The review cadence “Framework review” falls on days off: 13 Feb 2027 (Saturday), "
            "13 Nov 2027 (Saturday).",
        ),
    ],
    ids=[
        "entry-criteria",
        "cost-estimate",
        "estimate-above-ceiling",
        "single-approver",
        "currencies",
        "failure-owner-fix",
        "critical-mitigation",
        "system-drift",
        "vendor-model-update",
        "weekend-review",
    ],
)
def test_each_check_fires_on_the_checks_page_and_is_silent_on_the_demo(
    client, facilitator, demo, spoil, message
):
    escaped = message.replace("&", "&amp;")
    assert escaped not in _checks_html(client, facilitator, demo)
    spoil(demo)
    assert escaped in _checks_html(client, facilitator, demo)


def test_a_critical_failure_without_mitigation_blocks_the_review(client, facilitator, demo):
    FailureMode.objects.filter(kind="hallucination").update(immediate_mitigation="")
    assert "Not ready for review" in _checks_html(client, facilitator, demo)


# Failure modes: an ordered response path, the systems they apply to, the bounds that detect them.


def test_the_matrix_prints_a_multi_step_response_path(client, observer, demo):
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[demo.slug])).content.decode()
    assert "4. Fine-tuning → 5. Hybrid routing" in html


def test_the_matrix_csv_names_the_systems_and_detecting_bounds(demo):
    from escalation.artifacts import matrix_csv

    text = matrix_csv(build_document(demo.framework))
    assert "Claims-triage classifier" in text and "≥ 0.8 confidence" in text


def test_a_later_rung_below_the_first_is_refused(demo):
    from escalation.forms import FailureModeForm

    failure = FailureMode.objects.get(kind="confidence_miscalibration")
    data = {
        "name": failure.name,
        "kind": failure.kind,
        "severity": failure.severity,
        "recommended_level": str(failure.recommended_level_id),
        "then_levels": [str(_level(demo, "prompt-optimization").get().pk)],
        "row_version": str(failure.row_version),
    }
    form = FailureModeForm(data, instance=failure, framework=demo.framework)
    assert not form.is_valid() and "must lie above the first" in form.errors["then_levels"][0]
