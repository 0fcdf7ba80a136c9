"""Every step form rejects missing, out-of-range and malformed input with a message beside the
field, and saves nothing; property-based: no input at all makes the server fail."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
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
    ThresholdForm,
)
from escalation.models import (
    AISystem,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Threshold,
)
from tests.framework_content import make_framework

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)


@pytest.fixture
def framework():
    framework = make_framework()
    fill_demo_framework(framework, END)
    return framework


def threshold_data(framework, **overrides):
    system = AISystem.objects.get(framework=framework, key="claims-triage")
    data = {
        "ai_system": str(system.pk),
        "output_type": "",
        "measurement_window_hours": "24",
        "data_source": "",
        "trigger_breaches": "3",
        "trigger_windows": "5",
    }
    data.update(overrides)
    return data


def bound_data(framework, **overrides):
    threshold = Threshold.objects.get(framework=framework, key="claims-triage-classification")
    data = {
        "threshold": str(threshold.pk),
        "metric_kind": "quality",
        "metric_name": "macro F1",
        "direction": "at_least",
        "value": "0.88",
        "unit": "ratio",
    }
    data.update(overrides)
    return data


def errors_of(form):
    assert not form.is_valid()
    return {name: " ".join(messages) for name, messages in form.errors.items()}


def test_a_valid_threshold_form_saves_with_a_key_from_system_and_output(framework):
    Threshold.objects.filter(ai_system__key="claims-triage").delete()
    form = ThresholdForm(threshold_data(framework), framework=framework)
    assert form.is_valid(), form.errors
    assert form.save_new().key == "claims-triage-all-outputs"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("measurement_window_hours", "0", "greater than or equal to 1"),
        ("trigger_breaches", "6", "Breaches cannot exceed the number of windows"),
        ("trigger_windows", "101", "less than or equal to 100"),
        ("ai_system", "999999", "Select a valid choice"),
        ("output_type", "poetry", "does not produce “poetry”"),
        ("output_type", "classification", "already has thresholds for “classification”"),
        ("data_source", "a\x00b", "Null characters are not allowed"),
    ],
)
def test_threshold_form_rejects_with_a_message_beside_the_field(framework, field, value, message):
    form = ThresholdForm(threshold_data(framework, **{field: value}), framework=framework)
    assert message in errors_of(form)[field]


def test_a_bound_needs_only_metric_direction_value_and_unit(framework):
    form = BoundForm(bound_data(framework), framework=framework)
    assert form.is_valid(), form.errors
    assert form.save_new().text == "≥ 0.88 macro F1"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value", "", "required"),
        ("value", "NaN", "Enter a number"),
        ("direction", "", "required"),
        ("direction", "about", "Select a valid choice"),
        ("unit", "", "required"),
        ("unit", "furlongs", "Select a valid choice"),
        ("percentile", "p42", "Select a valid choice"),
        ("window_hours", "0", "greater than or equal to 1"),
        ("trigger_windows", "101", "less than or equal to 100"),
        ("threshold", "999999", "Select a valid choice"),
    ],
)
def test_bound_form_rejects_with_a_message_beside_the_field(framework, field, value, message):
    form = BoundForm(bound_data(framework, **{field: value}), framework=framework)
    assert message in errors_of(form)[field]


def test_a_percentage_above_100_is_refused(framework):
    data = bound_data(framework, unit="percent", value="100.5")
    assert "between 0 and 100" in errors_of(BoundForm(data, framework=framework))["value"]


def test_a_score_says_what_it_is_out_of(framework):
    data = bound_data(framework, unit="score", value="4.2")
    assert "out of" in errors_of(BoundForm(data, framework=framework))["scale_max"]


def test_a_score_above_its_scale_is_refused(framework):
    data = bound_data(framework, unit="score", value="6", scale_max="5")
    assert "above the top" in errors_of(BoundForm(data, framework=framework))["value"]


def test_a_bounds_own_trigger_rule_keeps_breaches_within_windows(framework):
    data = bound_data(framework, trigger_breaches="4", trigger_windows="3")
    assert "cannot exceed" in errors_of(BoundForm(data, framework=framework))["trigger_breaches"]


def test_ai_system_form_rejects_a_duplicate_name(framework):
    data = {"name": "Claims-triage classifier", "model_name": "m", "workflow": "w"}
    assert "already used" in errors_of(AISystemForm(data, framework=framework))["name"]


def test_ai_system_form_rejects_output_types_listed_twice(framework):
    data = {"name": "N", "model_name": "m", "workflow": "w", "output_types": "a, b, a"}
    assert "Listed twice: a." in errors_of(AISystemForm(data, framework=framework))["output_types"]


def test_ai_system_form_rejects_an_overlong_output_type(framework):
    data = {"name": "N", "model_name": "m", "workflow": "w", "output_types": "x" * 61}
    assert "output_types" in errors_of(AISystemForm(data, framework=framework))


@pytest.mark.parametrize("field", ["name", "model_name", "workflow"])
def test_ai_system_form_requires_its_core_fields(framework, field):
    data = {"name": "N", "model_name": "m", "workflow": "w", field: ""}
    assert "required" in errors_of(AISystemForm(data, framework=framework))[field]


def test_failure_mode_form_rejects_an_unknown_severity_and_a_duplicate_name(framework):
    data = {"name": "Hallucination", "kind": "custom", "severity": "apocalyptic"}
    errors = errors_of(FailureModeForm(data, framework=framework))
    assert "already used" in errors["name"] and "valid choice" in errors["severity"]


def test_ladder_form_rejects_a_duplicate_level_name(framework):
    data = {"name": "Fine-tuning", "kind": "custom"}
    assert "already used" in errors_of(LadderLevelForm(data, framework=framework))["name"]


def test_bound_form_offers_only_this_frameworks_thresholds_and_levels(framework):
    other = make_framework()
    fill_demo_framework(other, END)
    form = BoundForm(framework=framework)
    thresholds = form.fields["threshold"].queryset
    levels = form.fields["escalates_to"].queryset
    assert not thresholds.filter(framework=other).exists() and thresholds.count() == 5
    assert not levels.filter(framework=other).exists() and levels.count() == 6


# What the governance form's selects always send.
GOVERNANCE_DATA = {
    "approval_rule": "single",
    "cost_basis": "one_off",
    "cost_ceiling_basis": "one_off",
    "timeline_unit": "working_days",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cost_ceiling", "-1", "greater than or equal to 0"),
        ("cost_ceiling", "1e20", "no more than 14 digits"),
        ("estimated_cost_low", "lots", "Enter a number"),
        ("timeline_amount", "4000", "less than or equal to 3650"),
        ("timeline_unit", "fortnights", "valid choice"),
        ("cost_basis", "yearly", "valid choice"),
        ("currency", "e1r", "three-letter ISO currency code"),
        ("currency", "euro", "at most 3 characters"),
        ("approval_rule", "vibes", "valid choice"),
    ],
)
def test_governance_form_rejects_with_a_message_beside_the_field(framework, field, value, message):
    level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    data = {**GOVERNANCE_DATA, "currency": "EUR", "row_version": "1", field: value}
    form = GovernanceLevelForm(data, instance=level, framework=framework)
    assert message in errors_of(form)[field]


def test_governance_form_takes_a_lowercase_currency_as_its_code(framework):
    level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    data = {**GOVERNANCE_DATA, "currency": " usd ", "row_version": "1"}
    form = GovernanceLevelForm(data, instance=level, framework=framework)
    assert form.is_valid() and form.cleaned_data["currency"] == "USD"


def test_editing_requires_the_row_version(framework):
    level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    form = GovernanceLevelForm(
        {**GOVERNANCE_DATA, "currency": "EUR"}, instance=level, framework=framework
    )
    assert "row_version" in errors_of(form)


DRIFT = {
    "metric": "input_drift_psi",
    "comparison": "absolute",
    "operator": "above",
    "value": "0.2",
    "window": "7",
    "window_unit": "days",
}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**DRIFT, "window": "0"}, "window", "greater"),
        ({**DRIFT, "window": "8761", "window_unit": "hours"}, "window", "less"),
        ({**DRIFT, "window": "366"}, "window", "At most 365 days"),
        ({**DRIFT, "metric": "mood"}, "metric", "valid choice"),
        ({**DRIFT, "value": ""}, "value", "required"),
        ({**DRIFT, "operator": ""}, "operator", "required"),
    ],
)
def test_drift_trigger_form_rejects_bad_input(framework, data, field, message):
    assert message in errors_of(DriftTriggerForm(data, framework=framework))[field]


def test_drift_trigger_form_accepts_a_trigger_as_data(framework):
    assert DriftTriggerForm(DRIFT, framework=framework).is_valid()


def test_external_trigger_form_rejects_an_unknown_event(framework):
    form = ExternalTriggerForm({"event": "alien_invasion"}, framework=framework)
    assert "valid choice" in errors_of(form)["event"]


def test_review_cadence_form_rejects_a_malformed_date_and_frequency(framework):
    data = {"name": "Ops", "frequency": "hourly", "first_date": "31/02/2027", "shift": "none"}
    errors = errors_of(ReviewCadenceForm(data, framework=framework))
    assert "valid date" in errors["first_date"] and "valid choice" in errors["frequency"]


def test_review_cadence_form_asks_which_weekday_of_the_month(framework):
    data = {
        "name": "Ops",
        "frequency": "monthly",
        "day_rule": "nth_weekday",
        "first_date": "2027-01-04",
        "shift": "next_working_day",
    }
    errors = errors_of(ReviewCadenceForm(data, framework=framework))
    assert "weekday" in errors and "ordinal" in errors


def test_scope_creep_rule_is_required(framework):
    form = GovernanceRulesForm({"scope_creep_rule": "", "row_version": "1"}, instance=framework)
    assert "required" in errors_of(form)["scope_creep_rule"]


# Property-based: through the real views, any input either saves (302) or is refused with the form
# re-rendered (422) and nothing saved. Never a server error.

printable = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
numberish = st.one_of(
    printable,
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)

ADD_FORMS = {
    ("systems", "ai-systems"): (AISystem, AISystemForm),
    ("thresholds", "thresholds"): (Threshold, ThresholdForm),
    ("thresholds", "bounds"): (Bound, BoundForm),
    ("failure-modes", "failure-modes"): (FailureMode, FailureModeForm),
    ("ladder", "levels"): (EscalationLevel, LadderLevelForm),
    ("review-cycle", "drift-triggers"): (DriftTrigger, DriftTriggerForm),
    ("review-cycle", "external-triggers"): (ExternalTrigger, ExternalTriggerForm),
}


def _post_fields(form_class):
    return [name for name in form_class._meta.fields]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(sorted(ADD_FORMS)),
    values=st.lists(numberish, min_size=13, max_size=13),
)
def test_any_input_to_an_add_form_saves_or_is_refused_without_saving(
    client, engagement, facilitator, target, values
):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    model, form_class = ADD_FORMS[target]
    data = dict(zip(_post_fields(form_class), values, strict=False))
    before = model.objects.count()
    url = reverse("step_item_add", args=[engagement.slug, *target])
    response = client.post(url, data)
    assert response.status_code in {302, 422}
    if response.status_code == 422:
        assert model.objects.count() == before


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(
        numberish,
        min_size=len(GovernanceLevelForm._meta.fields or []),
        max_size=len(GovernanceLevelForm._meta.fields or []),
    ),
    row_version=st.one_of(st.just("1"), numberish),
)
def test_any_input_to_the_governance_edit_saves_or_changes_nothing(
    client, engagement, facilitator, values, row_version
):
    fill_demo_framework(engagement.framework, END)
    client.force_login(facilitator)
    level = EscalationLevel.objects.get(framework=engagement.framework, key="fine-tuning")
    data = dict(zip(GovernanceLevelForm._meta.fields, values, strict=True))
    data["row_version"] = row_version
    url = reverse("step_item_edit", args=[engagement.slug, "governance", "levels", level.key])
    response = client.post(url, data)
    assert response.status_code in {302, 409, 422}
    if response.status_code != 302:
        fresh = EscalationLevel.objects.get(pk=level.pk)
        assert (fresh.row_version, fresh.cost_ceiling) == (level.row_version, level.cost_ceiling)


# Property-based, on the validators themselves: the form accepts exactly the values the database
# accepts, and refuses everything else with a message on that field.

in_range_ratio = st.decimals(min_value=0, max_value=1, places=6)
out_of_range_ratio = st.one_of(
    st.decimals(max_value="-0.000001", places=6, allow_nan=False, allow_infinity=False),
    st.decimals(min_value="1.000001", max_value="9999.99", places=6),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=in_range_ratio)
def test_any_ratio_from_0_to_1_is_accepted_to_six_places(framework, value):
    form = BoundForm(bound_data(framework, value=str(value)), framework=framework)
    assert form.is_valid(), form.errors


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=out_of_range_ratio)
def test_any_ratio_outside_0_to_1_is_refused_on_that_field(framework, value):
    form = BoundForm(bound_data(framework, value=str(value)), framework=framework)
    assert not form.is_valid() and "value" in form.errors


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    breaches=st.integers(min_value=-5, max_value=120),
    windows=st.integers(min_value=-5, max_value=120),
)
def test_trigger_rule_is_accepted_exactly_when_1_le_breaches_le_windows_le_100(
    framework, breaches, windows
):
    Threshold.objects.filter(ai_system__key="claims-triage").delete()
    data = threshold_data(framework, trigger_breaches=str(breaches), trigger_windows=str(windows))
    form = ThresholdForm(data, framework=framework)
    assert form.is_valid() == (1 <= breaches <= windows <= 100)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    currency=st.text(alphabet=st.characters(codec="utf-8"), max_size=5)
    | st.from_regex(r"\s?[a-zA-Z]{3}\s?", fullmatch=True)
)
def test_currency_is_accepted_exactly_when_it_is_three_letters_or_empty(framework, currency):
    level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    data = {**GOVERNANCE_DATA, "currency": currency, "row_version": "1"}
    form = GovernanceLevelForm(data, instance=level, framework=framework)
    typed = currency.strip()  # as Django's CharField cleans it; empty: the framework's
    expected = typed == "" or (
        len(typed) <= 3 and re.fullmatch(r"[A-Z]{3}", typed.upper()) is not None
    )
    assert form.is_valid() == expected


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sunset=printable)
def test_any_input_to_the_review_cycle_settings_saves_or_changes_nothing(
    client, engagement, facilitator, sunset
):
    client.force_login(facilitator)
    framework = type(engagement.framework).objects.get(pk=engagement.framework.pk)
    data = {
        "sunset_criteria": sunset,
        "row_version": str(framework.row_version),
    }
    response = client.post(reverse("step_settings", args=[engagement.slug, "review-cycle"]), data)
    assert response.status_code in {302, 422}
    if response.status_code == 422:
        fresh = type(framework).objects.get(pk=framework.pk)
        assert fresh.row_version == framework.row_version
