"""The artifact pages, their file exports, and the PDF pack page with background generation."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape

from escalation import artifacts
from tests.factories import make_version, sign_off
from tests.framework_content import FAILURES, make_framework_content
from workshops.demo import load_demo
from workshops.models import Engagement
from workshops.packs import artifact_source

pytestmark = pytest.mark.django_db

HEADINGS = [
    "AI systems in scope",
    "Performance threshold register",
    "Escalation ladder diagram",
    "Governance per level",
    "Failure mode response matrix",
    "Review cadence protocol",
]
User = get_user_model()
# What a page must print of each level and each AI system, besides what the names show.
LEVEL_TEXT = ["exit_criteria", "rollback_rule", "approval_group", "approval_owner_name"]
SYSTEM_TEXT = ["name", "vendor", "business_owner", "workflow"]
# The governance per level, as the artifacts format it.
LADDER_ROW_TEXT = [
    "cost_ceiling",
    "approval_owner",
    "approval",
    "deputy",
    "estimated_cost",
    "timeline",
]


@pytest.fixture
def version(engagement: Any) -> Any:
    make_framework_content(engagement.framework)
    return make_version(engagement.framework)


@pytest.fixture
def signed_version(engagement: Any, version: Any, approver: Any) -> Any:
    sign_off(engagement, version, [approver])
    return version


def url(name: str, number: int | None = None, **kwargs: Any) -> str:
    if number is None:
        return reverse(name, kwargs={"slug": "acme", **kwargs})
    return reverse(f"version_{name}", kwargs={"slug": "acme", "number": number, **kwargs})


# Pages


def test_draft_artifacts_page_shows_every_artifact_marked_draft(client, observer, version):
    client.force_login(observer)
    html = client.get(url("artifacts")).content.decode()
    assert all(heading in html for heading in HEADINGS)
    assert "DRAFT" in html


def test_artifacts_page_shows_the_whole_framework_of_the_demo(client):
    load_demo()
    client.force_login(User.objects.get(username="observer"))
    html = client.get(reverse("version_artifacts", kwargs={"slug": "demo", "number": 1}))
    document = artifact_source(Engagement.objects.get(slug="demo"), 1).document
    printed = [row[field] for row in artifacts.ladder(document) for field in LADDER_ROW_TEXT]
    printed += [level[field] for level in document["levels"] for field in LEVEL_TEXT]
    printed += [system[field] for system in document["ai_systems"] for field in SYSTEM_TEXT]
    printed.append(document["governance"]["scope_creep_rule"])
    assert [text for text in printed if escape(text) not in html.content.decode()] == []


def test_version_page_inlines_the_ladder_svg_without_xml_prolog(client, observer, version):
    client.force_login(observer)
    html = client.get(url("artifacts", 1)).content.decode()
    assert '<svg role="img" aria-label="Escalation ladder:' in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_signed_off_version_page_is_not_marked_draft(client, observer, signed_version):
    client.force_login(observer)
    html = client.get(url("artifacts", 1)).content.decode()
    assert "Signed off" in html and "DRAFT" not in html


def test_frozen_version_shows_as_frozen_after_the_draft_changes(client, observer, version):
    version.framework.failure_modes.all().delete()
    client.force_login(observer)
    html = client.get(url("artifacts", 1)).content.decode()
    assert all(name in html for _, name, _, _ in FAILURES)


def test_outsider_gets_404(client, outsider, version):
    client.force_login(outsider)
    assert client.get(url("artifacts", 1)).status_code == 404


def test_unknown_version_gets_404(client, observer, version):
    client.force_login(observer)
    assert client.get(url("artifacts", 7)).status_code == 404


def test_artifacts_page_refuses_post(client, observer, version):
    client.force_login(observer)
    assert client.post(url("artifacts", 1)).status_code == 405


@pytest.mark.parametrize("extra_thresholds", [0, 40])
def test_artifacts_page_queries_do_not_grow_with_rows(
    client, observer, engagement, django_assert_num_queries, extra_thresholds
):
    make_framework_content(engagement.framework, extra_thresholds=extra_thresholds)
    make_version(engagement.framework)
    client.force_login(observer)
    client.get(url("artifacts", 1))  # draws and caches the ladder
    # session, user, membership + engagement and its review revision, version, review, and the
    # last sign-off before it (for "Changes since"); the artifacts as laid out come from this
    # process's memory (kept by the document's hash), the version switcher's versions too (kept
    # under the review revision)
    with django_assert_num_queries(6):
        client.get(url("artifacts", 1))


def test_a_ladder_graphviz_could_not_draw_is_drawn_on_the_next_request(
    client, observer, engagement, monkeypatch, tmp_path
):
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(observer)
    monkeypatch.setenv("PATH", str(tmp_path))  # no graphviz, for now
    assert "could not be drawn" in client.get(url("artifacts", 1)).content.decode()
    monkeypatch.undo()
    assert 'class="ladder-svg"' in client.get(url("artifacts", 1)).content.decode()


def test_the_version_switcher_names_each_version_by_its_state_and_marks_the_one_shown(
    client, facilitator, engagement, signed_version
):
    engagement.framework.sunset_criteria = "Revisit after two cycles."
    engagement.framework.save(update_fields=["sunset_criteria"])
    engagement.freeze_version(facilitator, "Second cut")
    client.force_login(facilitator)
    html = client.get(url("pack", 2)).content.decode()
    assert f'<a href="{url("pack")}?show=draft">Working draft</a>' in html
    assert f'<a href="{url("pack", 2)}" aria-current="page">v2 (frozen, not in review)</a>' in html
    assert f'<a href="{url("pack", 1)}">v1 (signed off)</a>' in html


# Files


def test_ladder_downloads_as_svg_and_png(client, reviewer, version):
    client.force_login(reviewer)
    svg, png = client.get(url("ladder_svg", 1)), client.get(url("ladder_png", 1))
    assert svg["Content-Type"] == "image/svg+xml" and b"Fine" in svg.content
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_register_csv_has_a_row_per_bound(client, reviewer, version):
    client.force_login(reviewer)
    rows = list(csv.reader(io.StringIO(client.get(url("register_csv", 1)).content.decode())))
    assert rows[0][:5] == ["AI system", "Model", "Workflow / use case", "Output type", "Bound"]
    assert len(rows) == 1 + len(version.document["bounds"])


def test_matrix_csv_maps_each_failure_type_to_its_level(client, reviewer, version):
    client.force_login(reviewer)
    rows = list(csv.DictReader(io.StringIO(client.get(url("matrix_csv", 1)).content.decode())))
    assert [(row["Failure mode"], row["Recommended escalation level"]) for row in rows] == [
        ("Wrong policy limit quoted", "1. Prompt optimization"),
        ("Invented claim reference", "2. Retrieval augmentation"),
        ("Misread underwriting jargon", "3. Fine-tuning"),
    ]


def test_framework_json_is_the_frozen_document(client, reviewer, version):
    client.force_login(reviewer)
    assert json.loads(client.get(url("document_json", 1)).content) == version.document


def test_review_cycle_calendar_holds_each_scheduled_review(client, reviewer, version):
    client.force_login(reviewer)
    calendar = icalendar.Calendar.from_ical(client.get(url("review_cycle_ics", 1)).content)
    starts = [event.decoded("dtstart") for event in calendar.walk("VEVENT")]
    # Quarterly from Sunday 31 Jan 2027 for two years, each moved off weekends.
    expected = [
        "2027-02-01",
        "2027-04-30",
        "2027-08-02",
        "2027-11-01",
        "2028-01-31",
        "2028-05-01",
        "2028-07-31",
        "2028-10-31",
    ]
    assert starts == [datetime.date.fromisoformat(day) for day in expected]


def test_matrix_csv_keeps_typed_formulas_as_text(client, reviewer, engagement, version):
    engagement.framework.failure_modes.filter(key="factual").update(
        resolution_owner="=HYPERLINK(1)"
    )
    make_version(engagement.framework, number=2)
    client.force_login(reviewer)
    rows = list(csv.DictReader(io.StringIO(client.get(url("matrix_csv", 2)).content.decode())))
    assert rows[0]["Resolution owner"] == "'=HYPERLINK(1)"
