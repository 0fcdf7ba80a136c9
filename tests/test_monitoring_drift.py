"""Drift triggers evaluated per window: checked against a direct reference computation on random
series (absolute values, changes versus the previous window and versus the baseline after
sign-off, missing windows, too-small samples); which metric a trigger reads; and through the API:
points of a metric only a trigger reads are accepted, late points re-evaluate as a full
evaluation would, fired windows show on the live page."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.models import DriftTrigger
from monitoring import cases
from monitoring.drift import DriftRule, drift_rules, evaluate_drift, read_metrics
from monitoring.evaluation import WINDOW_ORIGIN, BoundRule, Outcome, bound_rules
from monitoring.models import ApiToken, CaseEvidence, EscalationCase, WindowResult
from monitoring.results import evaluate_all, version_in_force
from tests.factories import make_version, sign_off
from tests.framework_content import fill_small_framework
from tests.test_monitoring_evaluation import _demo_document

MEASURES = {"quality": "ratio", "latency": "ms", "throughput": "per_minute", "volume": ""}


@st.composite
def drift_rules_drawn(draw) -> DriftRule:
    kind = draw(st.sampled_from(sorted(MEASURES)))
    hours = draw(st.sampled_from([1, 6, 24]))
    measure = BoundRule(
        key="d",
        ai_system="s",
        output_type="",
        metric=kind,
        metric_kind=kind,
        percentile=draw(st.sampled_from(["p50", "p95", ""])),
        direction="at_most",
        value=0.0,
        unit=MEASURES[kind],
        window_hours=hours,
        trigger_breaches=1,
        trigger_windows=1,
        immediate_breach_value=None,
        minimum_sample_size=draw(st.integers(1, 20)),
        text="",
    )
    return DriftRule(
        key="d",
        ai_system="s",
        comparison=draw(st.sampled_from(["absolute", "change_vs_previous", "change_vs_baseline"])),
        operator=draw(st.sampled_from(["above", "below"])),
        value=draw(st.integers(-6, 6)) / 2,
        text="",
        measure=measure,
    )


# Up to 30 days, sparse enough that some windows have no point at all.
points = st.lists(
    st.tuples(
        st.integers(0, 30 * 24 * 3600),
        st.integers(0, 10).map(lambda v: v / 2),
        st.integers(1, 12),
    ),
    max_size=60,
    unique_by=lambda point: point[0],
)
sign_offs = st.none() | st.integers(0, 30 * 24 * 3600).map(
    lambda seconds: datetime.fromtimestamp(WINDOW_ORIGIN + seconds, UTC)
)


def reference(rule: DriftRule, series, signed_off) -> dict[int, tuple]:
    """Each window's (compared number, outcome), computed directly."""
    width = rule.window_hours * 3600
    windows: dict[int, list[tuple[float, int]]] = {}
    for seconds, value, sample in series:
        windows.setdefault((seconds - WINDOW_ORIGIN) // width, []).append((value, sample))
    metric: dict[int, float] = {}  # windows with enough data only
    for index, members in windows.items():
        sample = sum(s for _, s in members)
        kind = rule.measure.metric_kind
        if kind == "latency":
            expanded = sorted(v for v, s in members for _ in range(s))
            percentile = {"p95": 95}.get(rule.measure.percentile, 50)
            value = expanded[max(math.ceil(percentile / 100 * sample), 1) - 1]
        elif kind == "throughput":
            value = sum(v for v, _ in members) / (rule.window_hours * 60)
        elif kind == "volume":
            value = sum(v for v, _ in members)
        else:
            value = sum(v * s for v, s in members) / sample
        if sample >= rule.minimum_sample_size:
            metric[index] = value
    baseline = None
    if signed_off is not None:
        after = [i for i in metric if WINDOW_ORIGIN + i * width >= signed_off.timestamp()]
        baseline = min(after, default=None)
    expected = {}
    for index in windows:
        compared = None
        if index in metric:
            if rule.comparison == "absolute":
                compared = metric[index]
            elif rule.comparison == "change_vs_previous" and index - 1 in metric:
                compared = metric[index] - metric[index - 1]
            elif rule.comparison == "change_vs_baseline" and baseline is not None:
                compared = metric[index] - metric[baseline] if index >= baseline else None
        if compared is None:
            expected[index] = (None, Outcome.NOT_ENOUGH_DATA)
        else:
            above = compared > rule.value
            below = compared < rule.value
            fired = above if rule.operator == "above" else below
            expected[index] = (compared, Outcome.BREACHED if fired else Outcome.MET)
    return expected


@settings(max_examples=300, deadline=None)
@given(drift_rules_drawn(), points, sign_offs)
def test_drift_windows_match_the_reference_computation(rule, series, signed_off):
    windows = evaluate_drift(rule, series, signed_off)
    found = {
        w.index: (w.value if w.outcome != Outcome.NOT_ENOUGH_DATA else None, w.outcome)
        for w in windows
    }
    assert found == reference(rule, series, signed_off)
    assert all(w.fired == (w.outcome == Outcome.BREACHED) for w in windows)


def _document_with(**trigger: Any) -> dict:
    document = _demo_document()
    document["ai_systems"] = [{"key": "document-extraction"}, {"key": "claims-bot"}]
    document["review_cycle"] = {
        "drift_triggers": [
            {"key": "drift", "ai_system": None, "window": 1, "window_unit": "days"} | trigger
        ]
    }
    return document


def test_a_trigger_reads_the_metric_of_the_systems_bound_of_its_kind():
    document = _document_with(
        metric="quality", comparison="absolute", operator="below", value="0.9"
    )
    rules = drift_rules(document, bound_rules(document))
    assert [(rule.ai_system, rule.metric) for rule in rules] == [
        ("document-extraction", "field_accuracy"),  # its quality bound's metric
        ("claims-bot", "quality"),  # no quality bound: the metric named by the kind
    ]


def test_a_trigger_on_a_metric_no_bound_measures_reads_that_metric_and_intake_accepts_it():
    document = _document_with(
        metric="input_drift_psi", comparison="absolute", operator="above", value="0.2"
    )
    rule = drift_rules(document, bound_rules(document))[0]
    assert rule.metric == "input_drift_psi"
    assert ("document-extraction", "input_drift_psi") in read_metrics(document)


def test_a_trigger_without_a_value_is_not_evaluated():
    document = _document_with(metric="volume", comparison="", operator="", value=None, note="x")
    assert drift_rules(document, bound_rules(document)) == []


# Through the API: the small framework's claims assistant and its drift trigger.


@pytest.fixture
def drifting(engagement, facilitator, approver) -> dict[str, Any]:
    """A signed-off v1 whose claims assistant has a groundedness floor and three daily drift
    triggers: PSI above 0.2, groundedness changing by more than −0.05 from the previous day, and
    groundedness more than 0.1 below the baseline (the first day after sign-off)."""
    content = fill_small_framework(engagement.framework)
    DriftTrigger.objects.filter(framework=engagement.framework).delete()
    for key, metric, comparison, operator, value in [
        ("psi", "input_drift_psi", "absolute", "above", "0.2"),
        ("daily-drop", "quality", "change_vs_previous", "below", "-0.05"),
        ("since-sign-off", "quality", "change_vs_baseline", "below", "-0.1"),
    ]:
        DriftTrigger.objects.create(
            framework=engagement.framework,
            key=key,
            ai_system=content["system"],
            metric=metric,
            comparison=comparison,
            operator=operator,
            value=value,
            window=1,
            window_unit="days",
        )
    DriftTrigger.objects.create(  # upgraded from free text: no value, not evaluated
        framework=engagement.framework, key="volume", metric="volume", note="volume doubles"
    )
    review = sign_off(engagement, make_version(engagement.framework), [approver])
    _, secret = ApiToken.issue(engagement, "production", facilitator)
    return {"secret": secret, "url": f"/api/e/{engagement.slug}/metrics", "review": review}


def _day(review, day: int) -> str:
    """Noon of the day `day` days after the sign-off's day (negative: before it)."""
    moment = review.signed_off_at.replace(hour=12, minute=0, second=0, microsecond=0)
    return (moment + timedelta(days=day)).astimezone(UTC).isoformat()


def _send(client, drifting, points: list[tuple[int, str, float]]):
    body = [
        {
            "time": _day(drifting["review"], day),
            "ai_system": "claims-bot",
            "output_type": "summary",
            "metric": metric,
            "value": value,
            "sample_size": 10,
        }
        for day, metric, value in points
    ]
    return client.post(
        drifting["url"],
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {drifting['secret']}"},
    )


def _drift_windows() -> list[tuple]:
    return list(
        WindowResult.objects.filter(kind="drift")
        .order_by("bound_key", "window_start")
        .values_list("bound_key", "window_start", "value", "metric_value", "outcome", "fired")
    )


@pytest.mark.django_db
def test_points_of_a_metric_only_a_trigger_reads_are_accepted_and_fire_it(client, drifting):
    response = _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.3)])
    assert response.status_code == 200, response.content
    fired = WindowResult.objects.filter(kind="drift", bound_key="psi", fired=True)
    assert [w.metric_value for w in fired] == [0.3]


@pytest.mark.django_db
def test_quality_drift_is_judged_against_the_previous_day_and_the_baseline(client, drifting):
    days = [(1, 0.95), (2, 0.92), (3, 0.86), (4, 0.83)]
    _send(client, drifting, [(day, "groundedness", value) for day, value in days])
    fired = {
        key: [w.window_start.day for w in WindowResult.objects.filter(bound_key=key, fired=True)]
        for key in ("daily-drop", "since-sign-off")
    }
    day = [
        datetime.fromisoformat(_day(drifting["review"], n)).day for n in range(1, 5)
    ]  # the calendar days of days 1–4
    assert fired == {"daily-drop": [day[2]], "since-sign-off": [day[3]]}


@pytest.mark.django_db
def test_late_points_reevaluate_drift_as_a_full_evaluation_would(client, drifting, engagement):
    _send(client, drifting, [(d, "groundedness", 0.9 - d / 50) for d in (-2, 3, 5, 6)])
    _send(client, drifting, [(d, "groundedness", 0.99) for d in (0, 2, 4)])  # baseline: 3 → 2
    _send(client, drifting, [(-1, "groundedness", 0.5), (5, "groundedness", 0.6)])
    incremental = _drift_windows()
    evaluate_all(engagement, version_in_force(engagement))
    assert _drift_windows() == incremental
    assert any(fired for *_, fired in incremental)


@pytest.mark.django_db
def test_a_fired_drift_trigger_opens_a_drift_review_case_and_later_firings_add_evidence(
    client, drifting, engagement
):
    _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.3)])
    case = EscalationCase.objects.get()
    assert (case.kind, case.ai_system, case.trigger_key, case.bound_key) == (
        "drift",
        "claims-bot",
        "psi",
        "",
    )
    assert case.reason.startswith("Drift trigger psi fired: ")
    assert [e.value for e in case.evidence.all()] == [0.3]
    _send(client, drifting, [(3, "input_drift_psi", 0.4)])
    _send(client, drifting, [(3, "input_drift_psi", 0.4)])  # re-sent: nothing new
    assert EscalationCase.objects.count() == 1
    assert [e.value for e in case.evidence.all()] == [0.3, 0.4]
    assert [e.kind for e in case.events.order_by("id")] == ["opened", "evidence_added"]


def _fire_three_triggers(client, drifting) -> None:
    """psi fires on day 2, daily-drop on day 3, since-sign-off on day 4."""
    days = [(1, 0.95), (2, 0.92), (3, 0.86), (4, 0.83)]
    _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.3)])
    _send(client, drifting, [(day, "groundedness", value) for day, value in days])


@pytest.mark.django_db
def test_recording_fired_drift_costs_the_same_queries_for_one_trigger_as_for_many(
    client, drifting, engagement
):
    """The cases in play, their evidence, the live levels, the new cases, evidence, events,
    audit rows and the members to mail: one query each, however many triggers fired."""
    _fire_three_triggers(client, drifting)
    version = drifting["review"].version
    counts = []
    for keys in (["psi"], ["psi", "daily-drop", "since-sign-off"]):
        EscalationCase.objects.all().delete()
        windows = list(WindowResult.objects.filter(kind="drift", fired=True, bound_key__in=keys))
        with CaptureQueriesContext(connection) as captured:
            opened = cases.record_fired_drift(engagement, version, windows)
        counts.append((len(opened), len(captured)))
    assert counts[0][1] == counts[1][1]
    assert [opened for opened, _ in counts] == [1, 3]


@pytest.mark.django_db
def test_adding_drift_evidence_costs_the_same_queries_for_one_case_as_for_many(
    client, drifting, engagement
):
    _fire_three_triggers(client, drifting)
    version = drifting["review"].version
    counts = []
    for keys in (["psi"], ["psi", "daily-drop", "since-sign-off"]):
        CaseEvidence.objects.all().delete()  # the cases stay in play, their evidence to add
        windows = list(WindowResult.objects.filter(kind="drift", fired=True, bound_key__in=keys))
        with CaptureQueriesContext(connection) as captured:
            cases.record_fired_drift(engagement, version, windows)
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert CaseEvidence.objects.count() == 3 and EscalationCase.objects.count() == 3


@pytest.mark.django_db
def test_a_drift_window_that_does_not_fire_opens_no_case(client, drifting):
    _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.19)])
    assert not EscalationCase.objects.exists()


@pytest.mark.django_db
def test_live_page_shows_fired_drift_windows_and_triggers_needing_a_value(
    client, drifting, engagement, observer
):
    _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.3)])
    client.force_login(observer)
    page = client.get(f"/e/{engagement.slug}/live/").content.decode()
    assert 'id="drift-claims-bot-psi"' in page
    assert "fired in 1 of the last 2" in page
    assert "Volume: volume doubles over 7 days (needs a value): not evaluated." in page


def test_a_trigger_for_every_system_is_evaluated_for_each():
    document = _document_with(metric="latency", comparison="absolute", operator="above", value=9)
    systems = [rule.ai_system for rule in drift_rules(document, bound_rules(document))]
    assert systems == ["document-extraction", "claims-bot"]


@pytest.mark.django_db
def test_a_drift_triggers_windows_are_listed_as_a_table_linked_from_its_chart(
    client, drifting, engagement, observer
):
    _send(client, drifting, [(1, "input_drift_psi", 0.1), (2, "input_drift_psi", 0.3)])
    client.force_login(observer)
    url = f"/e/{engagement.slug}/live/windows/drift/claims-bot/psi/"
    assert f'href="{url}"' in client.get(f"/e/{engagement.slug}/live/").content.decode()
    table = client.get(url).content.decode()
    assert table.count("<td>Fired</td>") == 1 and "Breaches in last" not in table
