"""Metric intake: reading points from JSON, CSV and OTLP JSON, checking each against the AI systems
and bounds the engagement knows, and storing them idempotently.

A point is (time, AI system key, output type, metric, value, sample size). It is accepted when
some bound of the framework in force or of the working draft measures that metric of that system
for that output type (see monitoring.evaluation for how a bound names its metric), or some drift
trigger reads it (any output type; see monitoring.drift); the working draft counts so a system
can collect data before the version that adds it is signed off.

Storing is one INSERT of the whole batch (sent as one JSON parameter), ON CONFLICT updating a
point only where its value or sample size differ: re-sending the same points changes nothing
and re-evaluates nothing, a corrected value replaces the old one and re-evaluates its window.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F

from escalation import caching
from escalation.document import upgrade_document
from escalation.models import AISystem, Bound, DriftTrigger
from monitoring.drift import read_metrics
from monitoring.evaluation import metric_id
from monitoring.results import (
    TouchedPoint,
    copy_rows,
    evaluate_new_points,
    version_in_force,
)
from workshops.models import Engagement

CSV_HEADER = ["time", "ai_system", "output_type", "metric", "value", "sample_size"]
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_SAMPLE_SIZE = 2**31 - 1


class UnreadableBody(ValueError):
    """The request body as a whole cannot be read (not JSON, not the CSV header, ...)."""


class Point(NamedTuple):
    # A tuple rather than a frozen dataclass: one is built per point, three times faster.
    row: int
    ai_system: str
    output_type: str
    metric: str
    time: datetime
    value: float
    sample_size: int

    @property
    def series_key(self) -> tuple[str, str, str, datetime]:
        return (self.ai_system, self.output_type, self.metric, self.time)


@dataclass
class Refusal:
    row: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "reason": self.reason}


@dataclass
class ReadPoints:
    points: list[Point] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def refuse(self, row: int, reason: str) -> None:
        self.refused.append(Refusal(row, reason))


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "…"


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("time must be an ISO 8601 string, e.g. 2026-11-30T14:00:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"time {_shown(value)} is not ISO 8601, e.g. 2026-11-30T14:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"time {_shown(value)} needs a UTC offset, e.g. 2026-11-30T14:00:00Z")
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"time {_shown(value)} is outside 2000–2100")
    return moment.astimezone(UTC)


def _value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"value {_shown(value)} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"value {_shown(value)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"value {_shown(value)} is not a finite number")
    return number


def _sample_size(value: Any) -> int:
    if value in (None, ""):
        return 1
    if isinstance(value, bool):
        raise ValueError("sample_size must be a whole number of at least 1")
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):  # TypeError: a list or an object
        number = None
    if number is None or not 1 <= number <= MAX_SAMPLE_SIZE:
        raise ValueError(f"sample_size {_shown(value)} must be a whole number of at least 1")
    return number


def _text(record: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = record.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    if required and not value:
        raise ValueError(f"{name} is missing")
    return value


def _quick_point(
    row: int, ai_system: Any, output_type: Any, metric: Any, moment: Any, value: Any, sample: Any
) -> Point | None:
    """The common case of a point, checked inline, as this runs once a point (a third of the
    careful path's time); None for anything unusual, which the careful path (_point) names."""
    if output_type is None:
        output_type = ""
    if not (
        type(ai_system) is str
        and ai_system
        and type(metric) is str
        and metric
        and type(output_type) is str
        and type(moment) is str
        and type(value) in (float, int, str)
        and (
            sample in (None, "")
            or type(sample) is int
            or (type(sample) is str and sample.isdigit())
        )
    ):
        return None
    try:
        time, number = datetime.fromisoformat(moment), float(value)
    except ValueError:
        return None
    size = 1 if sample in (None, "") else int(sample)
    if (
        time.tzinfo is not None
        and EARLIEST <= time < LATEST
        and math.isfinite(number)
        and 1 <= size <= MAX_SAMPLE_SIZE
    ):
        return Point(row, ai_system, output_type, metric, time.astimezone(UTC), number, size)
    return None


def _point(row: int, record: Mapping[str, Any]) -> Point:
    """One point from a JSON object or a CSV row; ValueError names the first problem."""
    quick = _quick_point(
        row,
        record.get("ai_system"),
        record.get("output_type", ""),
        record.get("metric"),
        record.get("time"),
        record.get("value"),
        record.get("sample_size"),
    )
    return quick if quick is not None else _careful_point(row, record)


def _careful_point(row: int, record: Mapping[str, Any]) -> Point:
    """A point checked field by field; ValueError names the first problem."""
    return Point(
        row=row,
        ai_system=_text(record, "ai_system", required=True),
        output_type=_text(record, "output_type", required=False),
        metric=_text(record, "metric", required=True),
        time=parse_time(record.get("time")),
        value=_value(record.get("value")),
        sample_size=_sample_size(record.get("sample_size")),
    )


def _read_records(records: Iterable[tuple[int, Any]]) -> ReadPoints:
    read = ReadPoints()
    for row, record in records:
        if not isinstance(record, dict):
            read.refuse(row, "a point must be an object with time, ai_system, metric and value")
            continue
        try:
            read.points.append(_point(row, record))
        except ValueError as problem:
            read.refuse(row, str(problem))
    return read


def read_json(body: bytes) -> ReadPoints:
    """Points from a JSON list of objects, or an object whose "points" is that list. A point's
    row is its position in the list, from 1."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UnreadableBody("The body is not JSON.") from None
    if isinstance(document, dict):
        document = document.get("points")
    if not isinstance(document, list):
        raise UnreadableBody('Send a JSON list of points, or {"points": [...]}.')
    return _read_records(enumerate(document, start=1))


def read_csv(body: bytes | str) -> ReadPoints:
    """Points from CSV with the header `time,ai_system,output_type,metric,value,sample_size`. A
    point's row is its line number in the file (the header is line 1)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise UnreadableBody("The CSV is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if header != CSV_HEADER:
        raise UnreadableBody(f"The CSV's first line must be the header {','.join(CSV_HEADER)}.")
    read = ReadPoints()
    for cells in reader:
        row = reader.line_num
        if not cells:
            continue
        if len(cells) != len(CSV_HEADER):
            read.refuse(row, f"{len(cells)} columns, not {len(CSV_HEADER)}")
            continue
        moment, ai_system, output_type, metric, value, sample = cells
        quick = _quick_point(row, ai_system, output_type, metric, moment, value, sample)
        if quick is not None:
            read.points.append(quick)
            continue
        try:
            read.points.append(_point(row, dict(zip(CSV_HEADER, cells, strict=True))))
        except ValueError as problem:
            read.refuse(row, str(problem))
    return read


@dataclass(frozen=True)
class Catalogue:
    """What points the engagement accepts: its systems and, per system, the (output type, metric)
    pairs its bounds measure ("" as output type: every output)."""

    systems: frozenset[str]
    measured: frozenset[tuple[str, str, str]]
    models: Mapping[str, str]  # a model name (gen_ai.request.model) → the system running it

    @classmethod
    def of(cls, documents: Iterable[Mapping[str, Any]]) -> Catalogue:
        systems: set[str] = set()
        measured: set[tuple[str, str, str]] = set()
        models: dict[str, str] = {}
        for document in documents:
            thresholds = {t["key"]: t for t in document.get("thresholds", [])}
            for system in document.get("ai_systems", []):
                systems.add(system["key"])
                if system.get("model_name"):
                    models.setdefault(system["model_name"], system["key"])
            for bound in document.get("bounds", []):
                threshold = thresholds.get(bound.get("threshold"))
                if threshold is None:
                    continue
                metric = metric_id(bound.get("metric_name") or "", bound["metric_kind"])
                measured.add((threshold["ai_system"], threshold.get("output_type") or "", metric))
            measured |= {(system, "", metric) for system, metric in read_metrics(document)}
        return cls(frozenset(systems), frozenset(measured), models)

    @classmethod
    def for_engagement(cls, engagement: Engagement) -> Catalogue:
        """The catalogue of the working draft and the version in force (two queries, with the
        engagement's framework loaded: the draft's part is cached under its content revision,
        the version's under its hash, as every intake batch asks for them)."""
        draft = caching.for_revision(
            "intake-catalogue",
            engagement.framework,
            lambda: cls.of([_draft_measures(engagement.framework_id)]),
        )
        version = version_in_force(engagement)
        if version is None:
            return draft
        in_force = caching.for_hashes(
            "intake-catalogue",
            [version.sha256],
            lambda: cls.of([upgrade_document(version.document)]),
        )
        return cls(
            draft.systems | in_force.systems,
            draft.measured | in_force.measured,
            {**in_force.models, **draft.models},  # the draft's system wins, as in `of`
        )

    def refusal(self, point: Point) -> str | None:
        if point.ai_system not in self.systems:
            return f"unknown AI system {_shown(point.ai_system)}"
        measured = (point.ai_system, "", point.metric) in self.measured or (
            point.ai_system,
            point.output_type,
            point.metric,
        ) in self.measured
        if not measured:
            output = f" for output type {_shown(point.output_type)}" if point.output_type else ""
            return (
                f"no bound of {point.ai_system} measures the metric {_shown(point.metric)}{output}"
            )
        return None


def _draft_measures(framework_id: int) -> dict[str, Any]:
    """What the catalogue reads of the working draft, in the document's shape (systems, their
    thresholds and bounds, drift triggers), in three queries rather than the whole document's
    ten."""
    systems = AISystem.objects.filter(framework_id=framework_id).values("key", "model_name")
    bounds = Bound.objects.filter(framework_id=framework_id).values(
        "metric_name",
        "metric_kind",
        ai_system=F("threshold__ai_system__key"),
        output_type=F("threshold__output_type"),
    )
    drift_triggers = [
        {"metric": metric, "ai_system": system}
        for metric, system in DriftTrigger.objects.filter(framework_id=framework_id).values_list(
            "metric", "ai_system__key"
        )
    ]
    return {
        "ai_systems": list(systems),
        "review_cycle": {"drift_triggers": drift_triggers},
        "thresholds": [
            {"key": number, "ai_system": b["ai_system"], "output_type": b["output_type"]}
            for number, b in enumerate(bounds)
        ],
        "bounds": [
            {"threshold": number, "metric_name": b["metric_name"], "metric_kind": b["metric_kind"]}
            for number, b in enumerate(bounds)
        ],
    }


def check(read: ReadPoints, catalogue: Catalogue) -> ReadPoints:
    """The points the catalogue accepts, each other point refused with its reason; a point
    repeating an earlier one's series and time with another value is refused too."""
    checked = ReadPoints(refused=list(read.refused))
    seen: dict[tuple[str, str, str, datetime], Point] = {}
    # The catalogue's answer per (system, output type, metric): a batch has few of them.
    answers: dict[tuple[str, str, str], str | None] = {}
    for point in read.points:
        measure = (point.ai_system, point.output_type, point.metric)
        if measure in answers:
            reason = answers[measure]
        else:
            reason = answers[measure] = catalogue.refusal(point)
        series_key = point.series_key
        earlier = seen.get(series_key)
        if reason is None and earlier is not None:
            if (earlier.value, earlier.sample_size) == (point.value, point.sample_size):
                continue  # the same point twice in one batch: stored once
            reason = f"the same system, output type, metric and time as row {earlier.row}"
        if reason is not None:
            checked.refuse(point.row, reason)
            continue
        seen[series_key] = point
        checked.points.append(point)
    checked.refused.sort(key=lambda refusal: refusal.row)
    return checked


@dataclass(frozen=True)
class Stored:
    received: int
    new: int
    updated: int
    windows_evaluated: int

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.new + self.updated,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.received - self.new - self.updated,
            "windows_evaluated": self.windows_evaluated,
            "refused": [],
        }


INTAKE_LOCK = 1_500_015  # the advisory lock's first key: one intake at a time per engagement


def store(engagement: Engagement, points: list[Point]) -> Stored:
    """Store the points (new ones inserted, changed ones updated, equal ones left alone) and
    bring the evaluation up to date with them."""
    if not points:
        return Stored(0, 0, 0, 0)
    # One intake at a time per engagement: two batches touching the same window, evaluated in
    # parallel, would each miss the other's uncommitted points. Points and their evaluation
    # commit together.
    with transaction.atomic(), connection.cursor() as cursor:
        # The batch goes in by COPY (psycopg writes the rows in C) to a temporary table of this
        # connection, emptied first (TRUNCATE, not DELETE: no vacuum of temporary tables), then
        # one INSERT ... ON CONFLICT from it: a third of the time of reading the batch from one
        # JSON parameter. The lock and the table's preparation go in one round trip, as one
        # simple query: so no bound parameter (the connection binds them on the server, one
        # statement at a time), the lock's two integer keys written into it.
        lock_keys = f"{INTAKE_LOCK}, {int(engagement.pk)}"
        cursor.execute(
            f"SELECT pg_advisory_xact_lock({lock_keys});"
            " CREATE TEMPORARY TABLE IF NOT EXISTS monitoring_intake (ai_system text,"
            " output_type text, metric text, time timestamptz, value float8, sample_size int);"
            " TRUNCATE monitoring_intake"
        )
        copy_rows(
            "monitoring_intake",
            (
                (p.ai_system, p.output_type, p.metric, p.time, p.value, p.sample_size)
                for p in points
            ),
        )
        cursor.execute(
            """
            INSERT INTO monitoring_metricpoint
              (engagement_id, ai_system, output_type, metric, time, value, sample_size, received_at)
            SELECT %s, ai_system, output_type, metric, time, value, sample_size, now()
            FROM monitoring_intake
            ON CONFLICT (engagement_id, ai_system, metric, time, output_type) DO UPDATE
              SET value = EXCLUDED.value, sample_size = EXCLUDED.sample_size,
                  received_at = EXCLUDED.received_at
              WHERE (monitoring_metricpoint.value, monitoring_metricpoint.sample_size)
                IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.sample_size)
            RETURNING xmax = 0, ai_system, output_type, metric,
              floor(extract(epoch FROM time))::bigint
            """,
            [engagement.pk],
        )
        written = cursor.fetchall()
        new = sum(1 for inserted, *_ in written if inserted)
        touched: list[TouchedPoint] = [
            (system, output_type, metric, seconds)
            for _, system, output_type, metric, seconds in written
        ]
        windows = evaluate_new_points(engagement, touched)
    return Stored(len(points), new, len(written) - new, windows)
