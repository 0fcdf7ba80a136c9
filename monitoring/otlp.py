"""Points from OpenTelemetry metrics in OTLP JSON (the body of POST /v1/metrics).

Three OpenTelemetry GenAI metrics are read; any other metric in the export is skipped:

- `gen_ai.client.operation.duration` (histogram, seconds) → metric `latency`, in milliseconds.
  Each non-empty bucket becomes a point valued at its upper bound (the last bucket at the data
  point's `max`, else its lower bound) weighted by the bucket's count, at the data point's time plus
  the bucket's number in microseconds (points of one series are unique by time). The evaluation's
  percentile over them is the upper bound of the bucket holding that percentile: conservative.
- `gen_ai.client.token.usage` (histogram) → metric `input_tokens` / `output_tokens` (by
  `gen_ai.token.type`), valued at the mean tokens per operation, sample size the count.
- `gen_ai.evaluation.result` (gauge or histogram) → the metric named by the attribute
  `gen_ai.evaluation.name` as a bound names it ("Field accuracy" → `field_accuracy`), valued at
  the gauge's value or the histogram's mean.

The AI system is the attribute `escalation.ai_system` (a system key), else the system whose model
is `gen_ai.request.model`; the output type is `escalation.output_type` (blank otherwise). A data
point's attributes win over its resource's. Histograms must be of delta temporality: cumulative
ones would count every earlier operation again at each export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring.evaluation import metric_id
from monitoring.intake import EARLIEST, LATEST, Catalogue, Point, ReadPoints, UnreadableBody

DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
EVALUATION = "gen_ai.evaluation.result"
CUMULATIVE = {2, "2", "AGGREGATION_TEMPORALITY_CUMULATIVE"}


def _attributes(items: Any) -> dict[str, Any]:
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = _as_dict(item.get("value"))
            for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
                if kind in value:
                    found[item["key"]] = value[kind]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _metrics(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource attributes, metric) for every metric of the export."""
    for resource_metrics in _as_list(document.get("resourceMetrics")):
        resource = _attributes(
            _as_dict(_as_dict(resource_metrics).get("resource")).get("attributes")
        )
        for scope_metrics in _as_list(_as_dict(resource_metrics).get("scopeMetrics")):
            for metric in _as_list(_as_dict(scope_metrics).get("metrics")):
                if isinstance(metric, dict):
                    yield resource, metric


def _time(data_point: dict[str, Any]) -> datetime:
    try:
        nanos = int(data_point.get("timeUnixNano"))  # type: ignore[arg-type]
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanos // 1000)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("timeUnixNano is missing or not a whole number") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError("timeUnixNano is outside 2000–2100")
    return moment


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is missing or not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} is not a finite number")
    return number


class _Reader:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.read = ReadPoints()
        self.row = 0

    def system(self, attributes: dict[str, Any]) -> str:
        if isinstance(attributes.get("escalation.ai_system"), str):
            return str(attributes["escalation.ai_system"])
        model = attributes.get("gen_ai.request.model")
        if isinstance(model, str):
            if model in self.catalogue.models:
                return self.catalogue.models[model]
            if model in self.catalogue.systems:
                return model
            raise ValueError(f"no AI system runs the model {model[:60]}")
        raise ValueError("name the AI system: escalation.ai_system or gen_ai.request.model")

    def add(
        self, attributes: dict[str, Any], metric: str, time: datetime, value: float, sample: int
    ) -> None:
        self.read.points.append(
            Point(
                row=self.row,
                ai_system=self.system(attributes),
                output_type=str(attributes.get("escalation.output_type", "")),
                metric=metric,
                time=time,
                value=value,
                sample_size=sample,
            )
        )

    def data_point(
        self, name: str, kind: str, attributes: dict[str, Any], point: dict[str, Any]
    ) -> None:
        time = _time(point)
        if kind == "gauge":
            value = point.get("asDouble", point.get("asInt"))
            self.add(
                attributes,
                metric_id(str(attributes.get("gen_ai.evaluation.name", "")), "evaluation"),
                time,
                _number(value, "the gauge's value"),
                1,
            )
            return
        count = int(_number(point.get("count"), "count"))
        if count <= 0:
            return  # no operation in this interval: nothing measured
        mean = _number(point.get("sum"), "sum") / count
        if name == EVALUATION:
            metric = metric_id(str(attributes.get("gen_ai.evaluation.name", "")), "evaluation")
            self.add(attributes, metric, time, mean, count)
        elif name == TOKEN_USAGE:
            token_type = str(attributes.get("gen_ai.token.type", ""))
            self.add(attributes, metric_id(f"{token_type} tokens", "tokens"), time, mean, count)
        else:
            self.duration(attributes, point, time, mean, count)

    def duration(
        self,
        attributes: dict[str, Any],
        point: dict[str, Any],
        time: datetime,
        mean: float,
        count: int,
    ) -> None:
        scale = 1.0 if point.get("unit") == "ms" else 1000.0  # the metric's unit is seconds
        bounds = [_number(b, "explicitBounds") for b in _as_list(point.get("explicitBounds"))]
        counts = [int(_number(c, "bucketCounts")) for c in _as_list(point.get("bucketCounts"))]
        if not counts or len(counts) != len(bounds) + 1:
            self.add(attributes, "latency", time, mean * scale, count)
            return
        top = _number(point["max"], "max") if "max" in point else (bounds[-1] if bounds else mean)
        for number, bucket_count in enumerate(counts):
            if bucket_count > 0:
                upper = bounds[number] if number < len(bounds) else top
                moment = time + timedelta(microseconds=number)
                self.add(attributes, "latency", moment, upper * scale, bucket_count)


def read_otlp(body: bytes, catalogue: Catalogue) -> tuple[ReadPoints, list[str]]:
    """Points from an OTLP JSON export, and the names of the metrics skipped. A row is a data
    point's number in the export, from 1, counting only the three metrics read."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UnreadableBody("The body is not JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("resourceMetrics"), list):
        raise UnreadableBody('Send an OTLP JSON export: {"resourceMetrics": [...]}.')
    reader = _Reader(catalogue)
    skipped: set[str] = set()
    for resource, metric in _metrics(document):
        name = metric.get("name")
        if name not in (DURATION, TOKEN_USAGE, EVALUATION):
            skipped.add(str(name)[:80])
            continue
        kind = "gauge" if name == EVALUATION and "gauge" in metric else "histogram"
        body_of_kind = _as_dict(metric.get(kind))
        cumulative = body_of_kind.get("aggregationTemporality") in CUMULATIVE
        for point in _as_list(body_of_kind.get("dataPoints")):
            reader.row += 1
            if cumulative:
                reader.read.refuse(reader.row, f"{name}: cumulative temporality; export delta")
                continue
            try:
                attributes = resource | _attributes(_as_dict(point).get("attributes"))
                reader.data_point(
                    str(name), kind, attributes, _as_dict(point) | {"unit": metric.get("unit")}
                )
            except ValueError as problem:
                reader.read.refuse(reader.row, f"{name}: {problem}")
    return reader.read, sorted(skipped)
