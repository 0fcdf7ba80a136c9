"""Metric intake through the HTTP API with a real token: JSON, CSV and OTLP JSON bodies, idempotent
re-sends, refused rows named, revoked and cross-engagement tokens refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring import bench
from monitoring.intake import _careful_point, _quick_point
from monitoring.models import ApiToken, MetricPoint, WindowResult
from monitoring.results import evaluate_all, version_in_force
from tests.factories import make_engagement, make_version, sign_off
from tests.framework_content import fill_small_framework, make_bound
from workshops.models import Activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(engagement, facilitator, approver) -> dict[str, Any]:
    """The engagement with a signed-off v1: the claims assistant (`claims-bot`) with a groundedness
    floor (≥ 0.85, metric `groundedness`) and a p95 latency ceiling (≤ 1200 ms, `latency`), both
    on 24-hour windows, breached in 3 of the last 5 windows."""
    content = fill_small_framework(engagement.framework)
    make_bound(
        content["threshold"],
        metric_kind="latency",
        percentile="p95",
        direction="at_most",
        value="1200",
        unit="ms",
    )
    sign_off(engagement, make_version(engagement.framework), [approver])
    _, secret = ApiToken.issue(engagement, "production", facilitator)
    return {"secret": secret, "url": reverse("api_metrics", args=[engagement.slug])}


def _post(client, url, body, secret, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        url, data, content_type=content_type, headers={"Authorization": f"Bearer {secret}"}
    )


def _point(hour: int, value: float, metric: str = "groundedness", **extra: Any) -> dict[str, Any]:
    return {
        "time": f"2026-11-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z",
        "ai_system": "claims-bot",
        "output_type": "summary",
        "metric": metric,
        "value": value,
        "sample_size": 10,
    } | extra


def test_json_points_are_stored_and_evaluated(client, live):
    response = _post(client, live["url"], [_point(0, 0.9), _point(1, 0.8)], live["secret"])
    assert response.status_code == 200, response.content
    assert response.json() | {"windows_evaluated": 0} == {
        "received": 2,
        "stored": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "windows_evaluated": 0,
        "refused": [],
    }
    window = WindowResult.objects.get(bound_key="claims-bot-all-groundedness")
    assert window.value == pytest.approx(0.85) and window.outcome == "met"


def test_points_may_come_wrapped_in_an_object(client, live):
    response = _post(client, live["url"], {"points": [_point(0, 0.9)]}, live["secret"])
    assert response.json()["stored"] == 1


def test_csv_points_are_stored(client, live):
    csv_body = (
        "time,ai_system,output_type,metric,value,sample_size\n"
        "2026-11-01T00:00:00Z,claims-bot,summary,latency,900,20\n"
        "2026-11-01T01:00:00Z,claims-bot,,latency,1500,1\n"
    )
    response = _post(client, live["url"], csv_body, live["secret"], content_type="text/csv")
    assert response.status_code == 200, response.content
    assert MetricPoint.objects.filter(metric="latency").count() == 2


def test_resending_the_same_points_changes_nothing(client, live):
    points = [_point(hour, 0.7) for hour in range(48)]
    _post(client, live["url"], points, live["secret"])
    before = list(WindowResult.objects.values_list("evaluated_at", flat=True))
    again = _post(client, live["url"], points, live["secret"]).json()
    assert (again["stored"], again["unchanged"], again["windows_evaluated"]) == (0, 48, 0)
    assert list(WindowResult.objects.values_list("evaluated_at", flat=True)) == before


def test_a_corrected_value_replaces_the_stored_one(client, live):
    _post(client, live["url"], [_point(0, 0.7)], live["secret"])
    answer = _post(client, live["url"], [_point(0, 0.95)], live["secret"]).json()
    assert (answer["new"], answer["updated"]) == (0, 1)
    assert WindowResult.objects.get(bound_key="claims-bot-all-groundedness").outcome == "met"


def test_refused_rows_are_named_and_nothing_is_stored(client, live):
    points = [
        _point(0, 0.9),
        _point(1, 0.9, ai_system="unknown-bot"),
        _point(2, 0.9, metric="csat"),
        _point(3, "high"),
        _point(4, 0.9, time="2026-11-01T04:00:00"),
    ]
    response = _post(client, live["url"], points, live["secret"])
    assert response.status_code == 400
    assert response.json()["refused"] == [
        {"row": 2, "reason": "unknown AI system unknown-bot"},
        {
            "row": 3,
            "reason": "no bound of claims-bot measures the metric csat for output type summary",
        },
        {"row": 4, "reason": "value high is not a number"},
        {
            "row": 5,
            "reason": "time 2026-11-01T04:00:00 needs a UTC offset, e.g. 2026-11-30T14:00:00Z",
        },
    ]
    assert not MetricPoint.objects.exists()


def test_csv_refusals_name_the_line(client, live):
    csv_body = (
        "time,ai_system,output_type,metric,value,sample_size\n"
        "2026-11-01T00:00:00Z,claims-bot,summary,latency,900,20\n"
        "2026-11-01T01:00:00Z,claims-bot,summary,latency,900,0\n"
    )
    response = _post(client, live["url"], csv_body, live["secret"], content_type="text/csv")
    assert response.json()["refused"] == [
        {"row": 3, "reason": "sample_size 0 must be a whole number of at least 1"}
    ]


def test_a_csv_without_the_header_is_refused(client, live):
    response = _post(client, live["url"], "a,b\n1,2\n", live["secret"], content_type="text/csv")
    assert response.status_code == 400
    assert "header" in response.json()["error"]


def test_a_body_that_is_not_json_is_refused(client, live):
    response = _post(client, live["url"], "{not json", live["secret"])
    assert response.status_code == 400 and response.json() == {"error": "The body is not JSON."}


def test_a_missing_or_wrong_token_is_refused(client, live):
    no_token = client.post(live["url"], "[]", content_type="application/json")
    wrong = _post(client, live["url"], [_point(0, 0.9)], "ewt_not-a-token")
    assert (no_token.status_code, wrong.status_code) == (401, 401)
    assert "Bearer" in wrong.json()["error"]


def test_a_revoked_token_is_refused(client, live):
    ApiToken.objects.get().revoke()
    response = _post(client, live["url"], [_point(0, 0.9)], live["secret"])
    assert response.status_code == 401
    assert not MetricPoint.objects.exists()


def test_a_token_of_one_engagement_cannot_write_to_another(client, live, outsider):
    other_url = reverse("api_metrics", args=["elsewhere"])
    response = _post(client, other_url, [_point(0, 0.9)], live["secret"])
    assert response.status_code == 404
    assert not MetricPoint.objects.exists()


def test_the_token_records_its_last_use(client, live):
    _post(client, live["url"], [_point(0, 0.9)], live["secret"])
    assert ApiToken.objects.get().last_used_at is not None


def test_the_api_takes_no_get(client, live):
    response = client.get(live["url"], headers={"Authorization": f"Bearer {live['secret']}"})
    assert response.status_code == 405


def test_points_are_stored_before_any_version_is_signed_off(client, facilitator):
    engagement = make_engagement(slug="unsigned")
    fill_small_framework(engagement.framework)
    _, secret = ApiToken.issue(engagement, "early")
    url = reverse("api_metrics", args=["unsigned"])
    response = _post(client, url, [_point(0, 0.9)], secret)
    assert response.json()["stored"] == 1
    assert not WindowResult.objects.exists()


def _otlp(metrics: list[dict[str, Any]], model: str | None = "gpt-4o") -> dict[str, Any]:
    """An OTLP JSON export of `metrics`, each data point naming `model` unless it is None."""
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "claims"}}]}
    for metric in metrics if model else []:
        for kind in ("histogram", "gauge"):
            for point in metric.get(kind, {}).get("dataPoints", []):
                point.setdefault("attributes", []).append(
                    {"key": "gen_ai.request.model", "value": {"stringValue": model}}
                )
    return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}


NOV_1 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z in nanoseconds


def test_otlp_duration_and_evaluation_results_are_stored(client, live, engagement):
    body = _otlp(
        [
            {
                "name": "gen_ai.client.operation.duration",
                "unit": "s",
                "histogram": {
                    "aggregationTemporality": 1,
                    "dataPoints": [
                        {
                            "timeUnixNano": str(NOV_1),
                            "count": "10",
                            "sum": 6.0,
                            "bucketCounts": ["0", "9", "1"],
                            "explicitBounds": [0.5, 1.0],
                            "max": 2.5,
                        }
                    ],
                },
            },
            {
                "name": "gen_ai.evaluation.result",
                "gauge": {
                    "dataPoints": [
                        {
                            "timeUnixNano": str(NOV_1),
                            "asDouble": 0.91,
                            "attributes": [
                                {
                                    "key": "gen_ai.evaluation.name",
                                    "value": {"stringValue": "Groundedness"},
                                }
                            ],
                        }
                    ]
                },
            },
            {"name": "http.client.duration", "histogram": {"dataPoints": []}},
        ]
    )
    url = reverse("api_otlp_metrics", args=[engagement.slug])
    answer = _post(client, url, body, live["secret"]).json()
    assert (answer["stored"], answer["skipped_metrics"]) == (3, ["http.client.duration"])
    latency = WindowResult.objects.get(bound_key="claims-bot-all-latency")
    assert latency.value == 2500.0  # p95 of 10 lies in the last bucket: its max, in ms


def test_otlp_token_usage_needs_a_bound_that_measures_it(client, live, engagement):
    body = _otlp(
        [
            {
                "name": "gen_ai.client.token.usage",
                "histogram": {
                    "aggregationTemporality": 1,
                    "dataPoints": [
                        {
                            "timeUnixNano": str(NOV_1),
                            "count": "4",
                            "sum": 1000,
                            "attributes": [
                                {"key": "gen_ai.token.type", "value": {"stringValue": "output"}}
                            ],
                        }
                    ],
                },
            }
        ]
    )
    url = reverse("api_otlp_metrics", args=[engagement.slug])
    answer = _post(client, url, body, live["secret"]).json()
    assert answer["refused"] == [
        {"row": 1, "reason": "no bound of claims-bot measures the metric output_tokens"}
    ]
    assert answer["partialSuccess"]["rejectedDataPoints"] == 1


def test_otlp_refuses_a_model_no_system_runs_and_stores_the_rest(client, live, engagement):
    gauge = lambda model: {  # noqa: E731
        "name": "gen_ai.evaluation.result",
        "gauge": {
            "dataPoints": [
                {
                    "timeUnixNano": str(NOV_1),
                    "asDouble": 0.9,
                    "attributes": [
                        {"key": "gen_ai.evaluation.name", "value": {"stringValue": "groundedness"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": model}},
                    ],
                }
            ]
        },
    }
    body = _otlp([gauge("mistral-large"), gauge("gpt-4o")], model=None)
    url = reverse("api_otlp_metrics", args=[engagement.slug])
    answer = _post(client, url, body, live["secret"]).json()
    assert answer["stored"] == 1
    assert answer["refused"] == [
        {"row": 1, "reason": "gen_ai.evaluation.result: no AI system runs the model mistral-large"}
    ]


def test_otlp_cumulative_histograms_are_refused(client, live, engagement):
    body = _otlp(
        [
            {
                "name": "gen_ai.client.operation.duration",
                "histogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [{"timeUnixNano": str(NOV_1), "count": "1", "sum": 1.0}],
                },
            }
        ]
    )
    url = reverse("api_otlp_metrics", args=[engagement.slug])
    answer = _post(client, url, body, live["secret"]).json()
    assert "cumulative" in answer["refused"][0]["reason"]


def test_create_api_token_prints_a_working_token(client, live, engagement, capsys):
    call_command("create_api_token", engagement.slug, "--name", "batch loader")
    secret = capsys.readouterr().out.strip()
    response = _post(client, live["url"], [_point(0, 0.9)], secret)
    assert response.status_code == 200
    assert Activity.objects.filter(verb="api_token.create", engagement=engagement).exists()


def _windows() -> list[tuple]:
    return list(
        WindowResult.objects.order_by("bound_key", "window_start").values_list(
            "bound_key", "window_start", "value", "sample_size", "outcome", "fired"
        )
    )


def test_late_points_are_reevaluated_as_a_full_evaluation_would(client, live, engagement):
    _post(client, live["url"], [_point(24 * day, 0.7) for day in (0, 1, 3, 4)], live["secret"])
    late = _post(client, live["url"], [_point(24 * 2, 0.7)], live["secret"]).json()
    incremental = _windows()
    evaluate_all(engagement, version_in_force(engagement))
    # Day 3's window and the two after it that look back; and the drift trigger's week holding it.
    assert late["windows_evaluated"] == 4
    assert _windows() == incremental


def test_three_breached_windows_of_five_fire(client, live):
    days = [(0, 0.7), (1, 0.9), (2, 0.7), (4, 0.7)]  # day 3 missing: it is not a breach
    _post(client, live["url"], [_point(24 * day, value) for day, value in days], live["secret"])
    fired = WindowResult.objects.filter(bound_key="claims-bot-all-groundedness", fired=True)
    assert [w.window_start.day for w in fired] == [5]


def test_a_sample_size_that_is_a_list_is_refused_with_its_row(client, live):
    answer = _post(client, live["url"], [_point(0, 0.9, sample_size=[50])], live["secret"]).json()
    assert answer["refused"] == [
        {"row": 1, "reason": "sample_size [50] must be a whole number of at least 1"}
    ]


# What a sender may put in a field: good values, and the wrong types and shapes seen in the wild.
field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**31 + 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "claims-bot",
            "2026-11-30T14:00:00Z",
            "2026-11-30T14:00:00+01:00",
            "2026-11-30T14:00:00",
            "1999-12-31T23:00:00Z",
            "0.5",
            " 7 ",
            "50",
            "0",
            "5.0",
            "nan",
            "1e400",
            "١٢",
        ]
    ),
    st.lists(st.integers(), max_size=1),
)


# Mostly well-formed points, each field sometimes replaced by anything above (or left out).
def _mostly(good: st.SearchStrategy) -> st.SearchStrategy:
    # Three times in four the good value (one_of would weigh each of field_values' branches).
    return st.integers(0, 3).flatmap(lambda n: good if n else field_values)


records = st.fixed_dictionaries(
    {
        "time": _mostly(st.just("2026-11-30T14:00:00Z")),
        "ai_system": _mostly(st.just("claims-bot")),
        "metric": _mostly(st.just("groundedness")),
        "value": _mostly(st.floats(-10, 10) | st.integers(-10, 10)),
    },
    optional={
        "output_type": _mostly(st.sampled_from(["", "summary"])),
        "sample_size": _mostly(st.integers(1, 100)),
    },
)


@settings(max_examples=500, deadline=None)
@given(records)
def test_the_fast_path_reads_a_point_as_the_careful_path_does(record):
    fields = [record.get(name) for name in ("ai_system", "output_type", "metric", "time")]
    quick = _quick_point(1, *fields, record.get("value"), record.get("sample_size", None))
    try:
        careful = _careful_point(1, record)
    except ValueError:
        careful = None
    assert quick is None or quick == careful


@pytest.mark.django_db
def test_a_batchs_evaluation_costs_the_same_queries_for_one_ai_system_as_for_forty(client):
    """Each batch is evaluated as it is stored: the version in force, the stored windows around
    the points, the points, the windows written, the fired windows and the cases they feed, one
    query each, however many AI systems, bounds and drift triggers the batch touches."""
    engagement, secret = bench.seed_engagement("forty-systems")
    url = reverse("api_metrics", args=[engagement.slug])
    _post(client, url, bench.hourly_points(range(24 * 3)), secret)  # cases open for every system
    counts = []
    for hour, systems in ((24 * 3, 1), (24 * 3 + 1, bench.SYSTEMS)):
        batch = bench.hourly_points(range(hour, hour + 1))[: systems * len(bench.METRICS)]
        with CaptureQueriesContext(connection) as captured:
            response = _post(client, url, batch, secret)
        counts.append((response.json()["stored"], len(captured)))
    assert [stored for stored, _ in counts] == [5, 200]
    assert counts[0][1] == counts[1][1]
