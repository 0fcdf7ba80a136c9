"""The demo client's framework signed off and fed through the intake, for the escalation case
tests: the support assistant's answer groundedness (≥ 0.85, daily windows, 3 of the last 5)."""

from __future__ import annotations

import datetime
import json
from typing import Any

from escalation.demo_framework import fill_demo_framework
from monitoring.intake import Catalogue, check, read_json, store
from tests.factories import make_member, make_user, make_version, sign_off
from workshops.models import Engagement, Role

GROUNDEDNESS = "support-assistant-chat-answer-answer-groundedness"


def sign_off_demo(engagement: Engagement, approver: Any) -> dict[str, Any]:
    """The demo framework signed off by `approver`; Priya Natarajan (owner of prompt optimization
    and retrieval augmentation) joins as an approver afterwards."""
    fill_demo_framework(engagement.framework, datetime.date(2026, 11, 13))
    version = sign_off(engagement, make_version(engagement.framework), [approver]).version
    priya = make_member(
        engagement,
        Role.APPROVER,
        make_user("priya", first_name="Priya", last_name="Natarajan"),
    )
    return {"version": version, "owner": priya}


# (AI system, output type, metric) of the series fed unless a test names another.
GROUNDEDNESS_SERIES = ("support-assistant", "chat answer", "answer_groundedness")


def groundedness_points(
    values: list[float],
    start: datetime.date = datetime.date(2026, 11, 1),
    series: tuple[str, str, str] = GROUNDEDNESS_SERIES,
) -> list[dict[str, Any]]:
    """One daily point per value, from `start`, as the metrics API takes them."""
    system, output_type, metric = series
    return [
        {
            "time": f"{start + datetime.timedelta(days=day)}T12:00:00Z",
            "ai_system": system,
            "output_type": output_type,
            "metric": metric,
            "value": value,
            "sample_size": 50,
        }
        for day, value in enumerate(values)
    ]


def feed(
    engagement: Engagement,
    values: list[float],
    *,
    start: datetime.date = datetime.date(2026, 11, 1),
    series: tuple[str, str, str] = GROUNDEDNESS_SERIES,
) -> None:
    """Store (and so evaluate) the points through the intake."""
    points = groundedness_points(values, start, series)
    checked = check(read_json(json.dumps(points).encode()), Catalogue.for_engagement(engagement))
    assert not checked.refused, checked.refused
    store(engagement, checked.points)
