"""The working draft's content revision: every write to a framework's content moves it, by any
path, so what is cached under it (the checks, the draft's document) never goes stale."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.middleware import read_framework_revisions_once
from escalation import caching
from escalation.checks import report_on_draft
from escalation.models import (
    AISystem,
    Framework,
    FrameworkRevision,
    FrameworkVersion,
    Pack,
    ReviewCadence,
    SunsetRule,
    Threshold,
)
from tests.framework_content import fill_small_framework, make_framework
from tests.triggers import tables_watched_by
from workshops.models import Engagement, get_engagement_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(engagement: Any) -> dict[str, Any]:
    return fill_small_framework(engagement.framework)


def _moves(framework: Framework, write: Any) -> bool:
    before = FrameworkRevision.of(framework)
    write()
    return FrameworkRevision.of(framework) != before


def test_editing_deleting_and_adding_items_move_the_revision(engagement, content):
    framework = engagement.framework
    system = content["system"]
    assert _moves(framework, lambda: AISystem.objects.filter(pk=system.pk).update(name="Bot"))
    assert _moves(framework, lambda: content["bound"].delete())
    assert _moves(
        framework,
        lambda: AISystem.objects.create(framework=framework, key="new", name="New", workflow="W"),
    )


def test_linking_and_unlinking_items_move_the_revision(engagement, content):
    framework = engagement.framework
    level = content["fine_tuning"]
    assert _moves(framework, lambda: content["system"].unavailable_levels.add(level))
    assert _moves(framework, lambda: content["system"].unavailable_levels.remove(level))
    assert _moves(framework, lambda: SunsetRule.objects.get(framework=framework).levels.clear())


def test_the_frameworks_own_fields_move_the_revision(engagement, content):
    framework = engagement.framework
    write = lambda: Framework.objects.filter(pk=framework.pk).update(sunset_criteria="Never")  # noqa: E731
    assert _moves(framework, write)


def test_a_raw_sql_write_moves_the_revision(engagement, content):
    def write() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE escalation_threshold SET data_source = 'raw'")

    assert _moves(engagement.framework, write)


def test_writes_to_another_framework_leave_the_revision_alone(engagement, content):
    other = make_framework()
    write = lambda: fill_small_framework(other)  # noqa: E731
    assert not _moves(engagement.framework, write)


def test_every_table_of_framework_content_moves_the_revision():
    """A table added later (items, or links between them) is covered too, or this fails."""
    content_models = [
        model
        for model in apps.get_app_config("escalation").get_models()
        if model not in (FrameworkVersion, Pack)
        and any(f.is_relation and f.related_model is Framework for f in model._meta.fields)
    ]
    tables = {Framework._meta.db_table} | {model._meta.db_table for model in content_models}
    tables |= {
        m2m.remote_field.through._meta.db_table
        for model in content_models
        for m2m in model._meta.many_to_many
    }
    watched = tables_watched_by("escalation_content_changed")
    assert tables - watched == set()


def test_a_change_shows_in_the_report_at_once(engagement, content):
    framework = engagement.framework
    before = report_on_draft(framework)
    Threshold.objects.filter(framework=framework).delete()  # a bulk delete, no model code runs
    after = report_on_draft(framework)
    assert before.counts["thresholds"] == 1
    assert after.counts["thresholds"] == 0


def test_a_change_shows_on_the_checks_page_at_once(client, facilitator, engagement, content):
    client.force_login(facilitator)
    url = reverse("checks", args=[engagement.slug])
    assert "No scheduled review cadence is set." in _problems(client.get(url))
    cadence = ReviewCadence(framework=engagement.framework, key="monthly", name="Monthly")
    ReviewCadence.objects.bulk_create([cadence])  # no model code runs
    assert "No scheduled review cadence is set." not in _problems(client.get(url))


def _problems(response: Any) -> str:
    """The page's list of problems, as printed (rendered once per revision, then cached)."""
    return str(response.context["problem_list"])


def test_the_drafts_document_follows_every_write(engagement, content):
    before = engagement.draft_sha256()
    AISystem.objects.filter(framework=engagement.framework).update(model_version="2")
    assert engagement.draft_sha256() != before
    assert engagement.draft_document()["ai_systems"][0]["model_version"] == "2"


def test_within_a_read_the_revision_is_read_once_and_a_page_shows_one_revision(engagement, content):
    framework = engagement.framework
    with caching.revisions_read_once():
        before = report_on_draft(framework)
        Threshold.objects.filter(framework=framework).delete()
        within = report_on_draft(framework)  # the same revision: the same report
    after = report_on_draft(framework)
    assert before.counts["thresholds"] == within.counts["thresholds"] == 1
    assert after.counts["thresholds"] == 0


def test_a_step_page_reads_the_revision_once(client, facilitator, engagement, content):
    client.force_login(facilitator)
    query = f"?edit=failure-modes:{content['failure'].key}"
    url = reverse("step", args=[engagement.slug, "failure-modes"]) + query
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    reads = [q for q in captured.captured_queries if "escalation_frameworkrevision" in q["sql"]]
    assert len(reads) == 1


@pytest.mark.parametrize(("method", "computed"), [("get", 1), ("head", 1), ("post", 2)])
def test_only_requests_that_write_nothing_read_the_revision_once(
    engagement, content, method, computed
):
    framework = engagement.framework
    computations = []

    def view(request: Any) -> HttpResponse:
        for part in ("before the write", "after it"):
            caching.for_revision("probe", framework, lambda p=part: computations.append(p) or p)
            AISystem.objects.filter(framework=framework).update(model_version=part)
        return HttpResponse()

    read_framework_revisions_once(view)(getattr(RequestFactory(), method)("/"))
    assert len(computations) == computed  # a POST sees its own write: a new revision


def test_a_read_takes_the_revision_from_the_membership_query(engagement, content, facilitator):
    report_on_draft(engagement.framework)  # cached under the revision of now
    with caching.revisions_read_once(), CaptureQueriesContext(connection) as captured:
        found = get_engagement_for(facilitator, engagement.slug)
        Threshold.objects.filter(framework=found.framework).delete()  # after the page began
        report = report_on_draft(found.framework)
    assert report.counts["thresholds"] == 1  # the page shows the revision its membership read
    reads = [
        q["sql"] for q in captured.captured_queries if "escalation_frameworkrevision" in q["sql"]
    ]
    assert len(reads) == 1 and "workshops_membership" in reads[0]


def test_the_revision_read_as_a_column_is_the_one_of_reads_and_0_before_any(engagement, content):
    def as_column() -> int:
        found = Engagement.objects.annotate(revision=FrameworkRevision.column("framework"))
        return found.get(pk=engagement.pk).revision

    assert as_column() == FrameworkRevision.of(engagement.framework) > 0
    FrameworkRevision.objects.filter(framework_id=engagement.framework_id).delete()
    assert as_column() == FrameworkRevision.of(engagement.framework) == 0
