"""Framework model v2: a threshold holds any number of bounds, each printed with its direction and
unit; documents of schema_version 2 round-trip byte for byte; version 1 documents (stored or
uploaded) are read as version 2 without loss, and frozen v1 versions keep their hash."""

from __future__ import annotations

import copy
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from escalation.artifacts import register_csv, sections
from escalation.demo_framework import fill_demo_framework
from escalation.diff import diff_documents
from escalation.document import build_document, document_sha256, export_text, upgrade_document
from escalation.document_reader import DocumentError, read_document
from escalation.models import (
    AISystem,
    Bound,
    FrameworkVersion,
    Threshold,
)
from escalation.pdf import build_pack
from escalation.presentation import readable_sections
from escalation.versions import stored_hash_matches
from tests.factories import make_version
from tests.framework_content import make_bound, make_framework
from workshops.packs import artifact_source, pack_context

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Bounds print as a client states them.


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"metric_name": "field accuracy", "value": "0.985"}, "≥ 0.985 field accuracy"),
        (
            {
                "metric_kind": "latency",
                "percentile": "p99",
                "direction": "at_most",
                "value": "8",
                "unit": "s",
            },
            "p99 ≤ 8 s",
        ),
        (
            {"metric_kind": "error_rate", "direction": "at_most", "value": "2", "unit": "percent"},
            "≤ 2% errors",
        ),
        (
            {"metric_name": "CSAT rating", "value": "4.2", "unit": "score", "scale_max": "5"},
            "≥ 4.2/5 CSAT rating",
        ),
        (
            {
                "metric_kind": "throughput",
                "value": "500",
                "unit": "per_hour",
                "counted_thing": "claims",
            },
            "≥ 500 claims/hour",
        ),
        (
            {"metric_kind": "custom", "metric_name": "PSI", "direction": "at_most", "value": "0.2"},
            "≤ 0.2 PSI",
        ),
    ],
)
def test_a_bound_prints_with_its_direction_and_unit(fields, text):
    framework = make_framework()
    system = AISystem.objects.create(
        framework=framework, key="bot", name="Bot", model_name="m", workflow="w"
    )
    threshold = Threshold.objects.create(framework=framework, key="bot-all", ai_system=system)
    if "scale_max" in fields:
        fields["scale_max"] = Decimal(fields["scale_max"])
    assert make_bound(threshold, **fields).text == text


def test_a_ratio_keeps_four_places_and_more():
    framework = make_framework()
    system = AISystem.objects.create(
        framework=framework, key="bot", name="Bot", model_name="m", workflow="w"
    )
    threshold = Threshold.objects.create(framework=framework, key="bot-all", ai_system=system)
    make_bound(threshold, value="0.9855")
    assert Bound.objects.get().value == Decimal("0.9855")


# Only the bounds a framework has are printed: page, CSV and PDF.

ABSENT = ["errors", "requests/min", "confidence", "quality", "≥ 0 "]


@pytest.fixture
def latency_only(engagement):
    """A framework whose one threshold sets only a latency limit."""
    framework = engagement.framework
    system = AISystem.objects.create(
        framework=framework, key="bot", name="Claims bot", model_name="m", workflow="FNOL"
    )
    threshold = Threshold.objects.create(framework=framework, key="bot-all", ai_system=system)
    make_bound(
        threshold,
        metric_kind="latency",
        percentile="p99",
        direction="at_most",
        value="8",
        unit="s",
    )
    return engagement


def test_the_register_page_prints_only_the_bounds_that_are_set(client, observer, latency_only):
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[latency_only.slug])).content.decode()
    register = html[html.index('id="threshold-register"') :].split("</section>")[0]
    assert "p99 ≤ 8 s" in register
    assert not [text for text in ABSENT if text in register]


def test_the_register_csv_prints_only_the_bounds_that_are_set(latency_only):
    csv_text = register_csv(build_document(latency_only.framework))
    assert "p99 ≤ 8 s" in csv_text
    assert len(csv_text.strip().splitlines()) == 2  # the heading and the one bound
    assert not [text for text in ABSENT if text in csv_text.split("\n", 1)[1]]


def test_the_pack_prints_only_the_bounds_that_are_set(latency_only):
    source = artifact_source(latency_only, None)
    pdf = build_pack(source.document, pack_context(source))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    register = text[text.index("Quality and risk thresholds per model") :]  # past the contents
    register = register[: register.index("Escalation ladder diagram")]
    assert "p99 ≤ 8 s" in register
    assert not [word for word in ["errors", "requests/min", "confidence"] if word in register]


# Documents of schema_version 2.

bound_values = st.sampled_from(
    [
        ("quality", "at_least", "ratio", st.decimals(min_value=0, max_value=1, places=4)),
        ("error_rate", "at_most", "percent", st.decimals(min_value=0, max_value=100, places=2)),
        ("latency", "at_most", "ms", st.integers(min_value=1, max_value=600_000)),
        ("throughput", "at_least", "per_hour", st.integers(min_value=0, max_value=10**6)),
        ("custom", "at_most", "ratio", st.decimals(min_value=0, max_value=1, places=6)),
    ]
)
optional_text = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30).map(
    str.strip
)


@st.composite
def bound_items(draw, threshold_keys, level_keys, index):
    kind, direction, unit, values = draw(bound_values)
    breaches = draw(st.none() | st.integers(min_value=1, max_value=5))
    return {
        "key": f"bound-{index}",
        "threshold": draw(st.sampled_from(threshold_keys)),
        "metric_kind": kind,
        "metric_name": draw(optional_text),
        "error_definition": draw(optional_text) if kind == "error_rate" else "",
        "percentile": draw(st.sampled_from(["", "p50", "p99"])) if kind == "latency" else "",
        "direction": direction,
        "value": str(draw(values)),
        "unit": unit,
        "counted_thing": draw(optional_text) if unit == "per_hour" else "",
        "scale_max": None,
        "window_hours": draw(st.none() | st.integers(min_value=1, max_value=2160)),
        "trigger_breaches": breaches,
        "trigger_windows": None if breaches is None else breaches + draw(st.integers(0, 5)),
        "immediate_breach_value": draw(st.none() | st.just("0.5")),
        "baseline_value": draw(st.none() | st.decimals(0, 1, places=3).map(str)),
        "minimum_sample_size": draw(st.none() | st.integers(min_value=0, max_value=10**6)),
        "data_source": draw(optional_text),
        "escalates_to": draw(st.lists(st.sampled_from(level_keys), unique=True, max_size=2)),
    }


# A level's direct entry: never (both blank), or when and who approves it.
direct_entries = st.just({"direct_entry_when": "", "direct_entry_approver": ""}) | st.builds(
    lambda when, approver: {"direct_entry_when": when, "direct_entry_approver": approver},
    optional_text.filter(bool),
    optional_text.filter(bool),
)


currencies = st.sampled_from(["EUR", "USD", "CHF"])
money = st.decimals(min_value=0, max_value=10**9, places=2)


@st.composite
def level_governance(draw):
    """A level's step-4 fields: any approval rule, a range or one figure or none, any basis."""
    rule = draw(st.sampled_from(["single", "all_of_group", "k_of_group"]))
    group = draw(st.lists(st.sampled_from(["Dana Lead", "Sam Risk", "Ola"]), unique=True))
    low = draw(st.none() | money)
    return {
        "approval_rule": rule,
        "approval_group": ", ".join(group or ["Dana Lead"]) if rule != "single" else "",
        "approvals_required": draw(st.integers(1, 5)) if rule == "k_of_group" else None,
        "deputy_name": draw(optional_text),
        "deputy_role": draw(optional_text),
        "currency": draw(st.just("") | currencies),
        "cost_ceiling": draw(st.none() | money.map(str)),
        "cost_ceiling_basis": draw(st.sampled_from(["one_off", "monthly"])),
        "estimated_cost_low": None if low is None else str(low),
        "estimated_cost_high": None if low is None else str(low + draw(money)),
        "cost_basis": draw(st.sampled_from(["one_off", "monthly"])),
        "timeline_amount": draw(st.none() | st.integers(0, 3650)),
        "timeline_unit": draw(
            st.sampled_from(["working_days", "calendar_days", "weeks", "months"])
        ),
        "overrun_rule": draw(optional_text),
    }


@st.composite
def cadence_items(draw, index):
    rule = draw(st.sampled_from(["same_day", "nth_weekday", "day_of_month"]))
    frequency = draw(st.sampled_from(["weekly", "monthly", "quarterly", "half_yearly", "yearly"]))
    if rule == "day_of_month" and frequency == "weekly":
        rule = "same_day"
    return {
        "key": f"cadence-{index}",
        "name": f"Review {index}",
        "frequency": frequency,
        "day_rule": rule,
        "ordinal": draw(st.sampled_from([1, 2, 3, 4, -1])) if rule == "nth_weekday" else None,
        "weekday": draw(st.integers(0, 4)) if rule == "nth_weekday" else None,
        "day_of_month": draw(st.integers(1, 31)) if rule == "day_of_month" else None,
        "first_date": draw(
            st.none() | st.dates(datetime.date(2026, 1, 1), datetime.date(2030, 12, 31)).map(str)
        ),
        "shift": draw(st.sampled_from(["next_working_day", "previous_working_day", "none"])),
    }


DRIFT_METRICS = [
    "quality",
    "error_rate",
    "latency",
    "throughput",
    "confidence",
    "input_drift_psi",
    "cost_per_request",
    "volume",
    "human_override_rate",
]


@st.composite
def drift_trigger_items(draw, index):
    unit = draw(st.sampled_from(["days", "hours"]))
    as_data = draw(st.booleans())  # or kept from free text: a note and no value
    value = draw(st.decimals(min_value=-(10**6), max_value=10**6, places=6))
    return {
        "key": f"drift-{index}",
        "ai_system": draw(st.sampled_from([None, "bot"])),
        "metric": draw(st.sampled_from(DRIFT_METRICS)),
        "comparison": draw(
            st.sampled_from(["absolute", "change_vs_previous", "change_vs_baseline"])
        )
        if as_data
        else "",
        "operator": draw(st.sampled_from(["above", "below"])) if as_data else "",
        "value": str(value) if as_data else None,
        "window": draw(st.integers(1, 365 if unit == "days" else 24 * 365)),
        "window_unit": unit,
        "note": draw(optional_text) if as_data else draw(optional_text.filter(str.strip)),
    }


@st.composite
def review_cycles(draw, level_keys):
    events = draw(
        st.lists(st.sampled_from(["foundation_model_update", "model_deprecation"]), unique=True)
    )
    return {
        "cadences": [draw(cadence_items(i)) for i in range(draw(st.integers(0, 3)))],
        "sunset_criteria": draw(optional_text),
        "sunset_rules": [
            {
                "key": f"sunset-{index}",
                "levels": draw(st.lists(st.sampled_from(level_keys), unique=True, min_size=1)),
                "after_days": draw(st.integers(1, 3650)),
                "required_improvement": str(draw(st.decimals(0, 1, places=4))),
            }
            for index in range(draw(st.integers(0, 2)))
        ],
        "drift_triggers": [draw(drift_trigger_items(i)) for i in range(draw(st.integers(0, 3)))],
        "external_triggers": [
            {
                "key": event.replace("_", "-"),
                "event": event,
                "ai_systems": draw(st.sampled_from([[], ["bot"]])),
                "description": draw(optional_text),
                "response": draw(optional_text),
            }
            for event in events
        ],
    }


@st.composite
def v2_documents(draw):
    outputs = draw(st.lists(st.sampled_from(["chat", "summary", "extraction"]), unique=True))
    levels = draw(st.lists(st.sampled_from(["prompt", "rag", "tune"]), unique=True, min_size=1))
    thresholds = [
        {
            "key": f"bot-{output or 'all'}",
            "ai_system": "bot",
            "output_type": output,
            "measurement_window_hours": draw(st.integers(min_value=1, max_value=2160)),
            "data_source": draw(optional_text),
            "trigger_breaches": 1,
            "trigger_windows": draw(st.integers(min_value=1, max_value=100)),
        }
        for output in ["", *outputs]
    ]
    keys = [threshold["key"] for threshold in thresholds]
    count = draw(st.integers(min_value=0, max_value=6))
    return {
        "schema_version": 2,
        "name": "Generated",
        "working_days": draw(st.none() | st.integers(min_value=5, max_value=10)),
        "ai_systems": [
            {
                "key": "bot",
                "name": "Bot",
                "vendor": "",
                "model_name": "m",
                "model_version": "",
                "workflow": "w",
                "business_owner": "",
                "output_types": outputs,
                "current_level": draw(st.none() | st.sampled_from(levels)),
                "unavailable_levels": draw(st.lists(st.sampled_from(levels), unique=True)),
            }
        ],
        "thresholds": thresholds,
        "bounds": [draw(bound_items(keys, levels, index)) for index in range(count)],
        "failure_modes": [],
        "levels": [
            {
                "key": key,
                "name": key.title(),
                "kind": "custom",
                "trigger": "",
                "entry_criteria": "",
                "exit_criteria": "",
                "rollback_rule": "",
                "approval_owner_name": "",
                "approval_owner_role": "",
                **draw(level_governance()),
                **draw(direct_entries),
            }
            for key in levels
        ],
        "governance": {
            "scope_creep_rule": "Climb one rung at a time.",
            "currency": draw(currencies),
            "overrun_rule": draw(st.sampled_from(["Stop and ask.", "Pause; the owner decides."])),
        },
        "review_cycle": draw(review_cycles(levels)),
    }


def _export_of(document):
    framework = read_document(json.loads(export_text(document)))
    return export_text(build_document(framework, working_days=document.get("working_days")))


@SETTINGS
@given(document=v2_documents())
def test_any_valid_v2_document_survives_export_import_export_byte_for_byte(db, document):
    first = _export_of(document)
    assert _export_of(json.loads(first)).encode() == first.encode()


@SETTINGS
@given(document=v2_documents(), data=st.data())
def test_a_hostile_document_is_refused_with_every_problem_named_by_its_place(db, document, data):
    if not document["bounds"]:
        document["bounds"].append(data.draw(bound_items(["bot-all"], ["prompt"], 0)))
    spoiled = data.draw(
        st.lists(st.integers(0, len(document["bounds"]) - 1), unique=True, min_size=1)
    )
    for index in spoiled:
        document["bounds"][index]["value"] = "lots"
    document["thresholds"][0]["trigger_windows"] = 0
    with pytest.raises(DocumentError) as refused:
        read_document(document)
    problems = refused.value.problems
    assert {f"bounds[{index}].value: 'lots' is not a decimal number" for index in spoiled} <= set(
        problems
    )
    assert any(problem.startswith("thresholds[0].trigger_windows: ") for problem in problems)


# Version 1 documents.

v1_numbers = {
    "quality_floor": st.decimals(min_value=0, max_value=100, places=2),
    "error_rate_ceiling_pct": st.decimals(min_value=0, max_value=100, places=2),
    "latency_limit_ms": st.integers(min_value=1, max_value=600_000),
    "throughput_floor_rpm": st.integers(min_value=0, max_value=10_000_000),
    "confidence_minimum": st.decimals(min_value=0, max_value=1, places=3),
}


@st.composite
def v1_documents(draw):
    """The demo framework written as version 1 wrote it, with generated bounds."""
    document = draw(v2_documents())
    document["schema_version"] = 1
    del document["working_days"], document["bounds"]
    for threshold in document["thresholds"]:
        threshold["quality_metric"] = draw(optional_text.filter(bool))
        threshold["latency_percentile"] = draw(st.sampled_from(["p50", "p90", "p95", "p99"]))
        for column, values in v1_numbers.items():
            value = draw(values)
            threshold[column] = value if isinstance(value, int) else str(value)
    for level in document["levels"]:
        level["trigger_thresholds"] = draw(
            st.lists(st.sampled_from([t["key"] for t in document["thresholds"]]), unique=True)
        )
        del level["direct_entry_when"], level["direct_entry_approver"]  # not in version 1
    for system in document["ai_systems"]:
        del system["current_level"], system["unavailable_levels"]
    return document


@SETTINGS
@given(document=v1_documents())
def test_any_v1_document_upgrades_to_v2_without_loss(db, document):
    original = copy.deepcopy(document)
    upgraded = upgrade_document(document)
    assert document == original, "upgrading rewrote the document it read"
    framework = read_document(document)
    imported = build_document(framework)

    def by_key(items):  # the export orders thresholds by output type, the file may not
        return {item["key"]: item for item in items}

    for collection in ["thresholds", "bounds", "levels"]:
        assert by_key(imported[collection]) == by_key(upgraded[collection])
    for threshold in original["thresholds"]:
        bounds = {
            b["metric_kind"]: b for b in upgraded["bounds"] if b["threshold"] == threshold["key"]
        }
        assert Decimal(bounds["quality"]["value"]) == Decimal(threshold["quality_floor"])
        assert bounds["quality"]["metric_name"] == threshold["quality_metric"]
        assert Decimal(bounds["latency"]["value"]) == threshold["latency_limit_ms"]
        assert bounds["latency"]["percentile"] == threshold["latency_percentile"]
        leading = sorted(
            level["key"]
            for level in original["levels"]
            if threshold["key"] in level["trigger_thresholds"]
        )
        assert sorted(bounds["confidence"]["escalates_to"]) == leading


V1_DEMO = {
    "schema_version": 1,
    "name": "Frozen under version 1",
    "ai_systems": [
        {
            "key": "bot",
            "name": "Claims bot",
            "vendor": "",
            "model_name": "gpt",
            "model_version": "",
            "workflow": "FNOL",
            "business_owner": "",
            "output_types": [],
        }
    ],
    "thresholds": [
        {
            "key": "bot-all",
            "ai_system": "bot",
            "output_type": "",
            "quality_metric": "groundedness",
            "quality_floor": "85.00",
            "error_rate_ceiling_pct": "2.50",
            "latency_percentile": "p95",
            "latency_limit_ms": 1200,
            "throughput_floor_rpm": 60,
            "confidence_minimum": "0.800",
            "measurement_window_hours": 24,
            "data_source": "",
            "trigger_breaches": 3,
            "trigger_windows": 5,
        }
    ],
    "failure_modes": [],
    "levels": [
        {
            "key": "prompt",
            "name": "Prompt optimization",
            "kind": "prompt_optimization",
            "trigger": "",
            "trigger_thresholds": ["bot-all"],
            "entry_criteria": "",
            "exit_criteria": "",
            "rollback_rule": "",
            "approval_owner_name": "",
            "approval_owner_role": "",
            "approval_rule": "single",
            "approval_group": "",
            "cost_ceiling": None,
            "currency": "EUR",
            "estimated_cost_delta": None,
            "timeline_delta_days": None,
        }
    ],
    "governance": {"scope_creep_rule": "One rung at a time."},
    "review_cycle": {
        "frequency": "quarterly",
        "first_review_date": None,
        "sunset_criteria": "",
        "drift_triggers": [],
        "external_triggers": [],
    },
}


@pytest.fixture
def frozen_v1(engagement):
    """Version 1 of the engagement, frozen before schema 2 existed (its stored document is v1)."""
    return FrameworkVersion.objects.create(
        framework=engagement.framework,
        number=1,
        document=V1_DEMO,
        sha256=document_sha256(V1_DEMO),
    )


def test_a_frozen_v1_version_keeps_its_document_and_hash(frozen_v1):
    sections(frozen_v1.document)
    readable_sections(frozen_v1.document)
    frozen_v1.refresh_from_db()
    assert frozen_v1.document == V1_DEMO and stored_hash_matches(frozen_v1)


def test_a_frozen_v1_version_renders_its_bounds(client, observer, engagement, frozen_v1):
    client.force_login(observer)
    url = reverse("version_artifacts", args=[engagement.slug, 1])
    html = client.get(url).content.decode()
    for text in ["≥ 85/100 groundedness", "≤ 2.5% errors", "p95 ≤ 1,200 ms", "≥ 0.8 confidence"]:
        assert text in html


def test_a_frozen_v1_version_exports_as_v2(client, reviewer, engagement, frozen_v1):
    client.force_login(reviewer)
    url = reverse("version_document_json", args=[engagement.slug, 1])
    document = json.loads(client.get(url).content)
    assert document["schema_version"] == 2 and len(document["bounds"]) == 5


def test_a_v1_version_diffs_against_a_v2_version_item_by_item(engagement, frozen_v1):
    read = read_document(copy.deepcopy(V1_DEMO))
    Bound.objects.filter(framework=read, metric_kind="throughput").delete()
    Bound.objects.filter(framework=read, metric_kind="error_rate").update(value=Decimal("2"))
    changes = {
        item.anchor: item.change
        for section in diff_documents(V1_DEMO, build_document(read))
        for item in section.items
    }
    assert changes == {
        "bounds/bot-all-throughput": "removed",
        "bounds/bot-all-error-rate": "changed",
    }


def test_a_new_version_freezes_as_v2_with_the_working_length(engagement):
    fill_demo_framework(engagement.framework, END)
    document = make_version(engagement.framework).document
    assert document["schema_version"] == 2 and document["bounds"]


def test_the_frozen_versions_table_still_refuses_rewrites(frozen_v1):
    with pytest.raises(Exception, match="frozen"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE escalation_frameworkversion SET document = %s WHERE id = %s",
            [json.dumps(upgrade_document(V1_DEMO)), frozen_v1.pk],
        )


def test_a_v1_failure_mode_keeps_its_level_as_the_first_rung():
    v1 = copy.deepcopy(V1_DEMO)
    v1["failure_modes"] = [
        {
            "key": "made-up",
            "name": "Made up",
            "kind": "hallucination",
            "description": "",
            "example": "",
            "detection_signal": "",
            "severity": "high",
            "recommended_level": "prompt",
            "immediate_mitigation": "",
            "long_term_fix": "",
            "resolution_owner": "",
        }
    ]
    mode = build_document(read_document(v1))["failure_modes"][0]
    assert (mode["recommended_level"], mode["then_levels"], mode["applies_to"]) == (
        "prompt",
        [],
        [],
    )
