"""The live page (members read it) and the API tokens page (facilitators): each bound's status
and chart against the framework in force, tokens shown once and stored hashed, every token change
in the audit trail, and the CSV upload."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.large_framework import fill_large_framework
from monitoring.charts import chart
from monitoring.evaluation import BoundRule
from monitoring.intake import Catalogue, check, read_json, store
from monitoring.live import (
    BoundPanel,
    RecentWindow,
    SystemPanel,
    status_of,
    system_panels_html,
    window_table_html,
)
from monitoring.models import (
    ApiToken,
    CaseKind,
    EscalationCase,
    MetricPoint,
    SystemLevel,
    WindowResult,
    token_digest,
)
from tests.factories import make_engagement, make_member, make_version, sign_off
from tests.framework_content import fill_small_framework
from workshops.models import Activity, Engagement, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_off(engagement, approver):
    fill_small_framework(engagement.framework)  # claims-bot: ≥ 0.85 groundedness
    return sign_off(engagement, make_version(engagement.framework), [approver]).version


def _feed(engagement, values):
    """One day's groundedness per value, from 2026-11-01, through the intake."""
    points = [
        {
            "time": f"2026-11-{day + 1:02d}T12:00:00Z",
            "ai_system": "claims-bot",
            "metric": "groundedness",
            "value": value,
        }
        for day, value in enumerate(values)
    ]
    checked = check(read_json(json.dumps(points).encode()), Catalogue.for_engagement(engagement))
    assert not checked.refused
    store(engagement, checked.points)


def test_live_page_reads_windows_only_once_the_points_are_evaluated(
    client, engagement, observer, signed_off
):
    client.force_login(observer)
    url = reverse("live", args=[engagement.slug])
    before = _queries(client, url)
    _feed(engagement, [0.9, 0.9])  # the intake evaluates them against the version in force

    assert _queries(client, url) == before + 1  # the recent windows of the page's series
    assert '<svg class="live-chart"' in client.get(url).content.decode()


def test_live_page_shows_each_bound_with_its_status_and_chart(
    client, engagement, observer, signed_off
):
    _feed(engagement, [0.7, 0.7, 0.7])
    client.force_login(observer)
    page = client.get(reverse("live", args=[engagement.slug])).content.decode()
    assert "≥ 0.85 Groundedness" in page
    assert 'class="badge live-fired">Fired<' in page
    assert '<svg class="live-chart"' in page and "<title id=" in page


def _table_url(engagement, kind="bound", key="claims-bot-all-groundedness"):
    return reverse("live_windows", args=[engagement.slug, kind, "claims-bot", key])


def test_live_page_links_each_chart_to_its_windows_as_a_table(
    client, engagement, observer, signed_off
):
    _feed(engagement, [0.9])
    client.force_login(observer)
    page = client.get(reverse("live", args=[engagement.slug])).content.decode()
    url = _table_url(engagement)
    assert f'<a href="{url}" data-hx-get="{url}"' in page and "The 1 windows as a table" in page
    assert "<td>2026-11-01 00:00</td>" not in page  # the rows are on the linked page only


def test_a_bounds_windows_are_listed_as_a_table_on_a_page_of_their_own(
    client, engagement, observer, signed_off
):
    _feed(engagement, [0.9, 0.7])
    client.force_login(observer)
    page = client.get(_table_url(engagement)).content.decode()
    assert '<td>2026-11-01 00:00</td><td class="num">0.9</td>' in page
    assert '<td>2026-11-02 00:00</td><td class="num">0.7</td>' in page
    assert f'href="{reverse("live", args=[engagement.slug])}?page=1#system-claims-bot"' in page


def test_htmx_gets_the_windows_table_alone_to_show_in_place_of_the_link(
    client, engagement, observer, signed_off
):
    _feed(engagement, [0.9])
    client.force_login(observer)
    fragment = client.get(_table_url(engagement), headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<table class="table">') and "<html" not in fragment
    assert '<td>2026-11-01 00:00</td><td class="num">0.9</td>' in fragment


def test_a_series_not_in_the_framework_in_force_has_no_windows_page(
    client, engagement, observer, signed_off
):
    client.force_login(observer)
    urls = [
        _table_url(engagement, key="no-such-bound"),
        _table_url(engagement, kind="drift"),  # a bound's key is no drift trigger's
        _table_url(engagement, kind="neither"),
    ]
    assert [client.get(url).status_code for url in urls] == [404, 404, 404]


def test_an_outsider_sees_no_windows_table(client, engagement, outsider, signed_off):
    _feed(engagement, [0.9])
    client.force_login(outsider)
    assert client.get(_table_url(engagement)).status_code == 404


def _bound_rule(**changes: Any) -> BoundRule:
    """A daily "at least 0.85" groundedness bound of AI system `bot`, with `changes`."""
    rule = BoundRule(
        key='k"1',
        ai_system="bot",
        output_type="",
        metric="groundedness",
        metric_kind="quality",
        percentile="",
        direction="at_least",
        value=0.85,
        unit="ratio",
        window_hours=24,
        trigger_breaches=2,
        trigger_windows=3,
        immediate_breach_value=None,
        minimum_sample_size=1,
        text="",
    )
    return dataclasses.replace(rule, **changes)


def test_a_windows_chart_link_and_table_escape_the_bounds_text_and_print_every_window():
    rule = _bound_rule(text="≥ 0.85 <script>alert(\"x\")</script> & \\ 'quoted'")
    windows = [
        RecentWindow(
            datetime.datetime(999, 1, 2, 3, 4, tzinfo=datetime.UTC),
            None,
            0,
            "not_enough_data",
            False,
            0,
            False,
        ),
        RecentWindow(
            datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
            0.51234,
            40,
            "breached",
            True,
            2,
            True,
        ),
    ]
    points = [(w.value, w.outcome, w.fired) for w in windows]
    panel = BoundPanel(rule, status_of(windows[-1]), windows, chart(points, rule.value), "/t?a&b")
    html = panel.html + window_table_html(panel, windows)

    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'aria-labelledby="chart-k&quot;1-title"' in html and 'href="/t?a&amp;b"' in html
    assert html.count("<circle ") == 2 and html.count("<tr><td>") == 2
    assert '<td>0999-01-02 03:04</td><td class="num">–</td><td class="num">0</td>' in html
    assert '<td>Breached (immediate)</td><td class="num">2</td><td>Fired</td>' in html
    assert "Breaches in last 3" in html and 'class="live-dot-breached live-dot-fired"' in html


def test_a_systems_panel_escapes_every_text_of_the_framework_and_its_cases():
    hostile = "<script>alert(\"x\")</script> & 'q'\nline two"
    rule = _bound_rule(output_type=hostile, metric=hostile, minimum_sample_size=5, text=hostile)
    case = EscalationCase(
        kind=CaseKind.BOUND_BREACH, bound_text=hostile, proposed_level_name=hostile, ai_system="bot"
    )
    panel = SystemPanel(
        key='bot"<',
        name=hostile,
        model=hostile,
        current_level=hostile,
        bounds=[BoundPanel(rule, status_of(None), [], chart([], rule.value))],
        drifts=[],
        drifts_needing_a_value=[hostile],
        cases=[case],
    )
    html = system_panels_html([panel], lambda public_id: f"/cases/{public_id}?a&b")

    assert "<script>" not in html and "<b" not in html
    assert (
        html.count(
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;\nline two"
        )
        == 10
    )
    assert 'id="system-bot&quot;&lt;"' in html and 'id="bound-k&quot;1"' in html
    assert f'href="/cases/{case.public_id}?a&amp;b"' in html
    assert "at least 5 samples a window" in html and "No points for this bound yet." in html


def test_live_page_says_when_no_version_is_signed_off(client, engagement, observer):
    client.force_login(observer)
    page = client.get(reverse("live", args=[engagement.slug])).content.decode()
    assert "No version is signed off yet" in page


def test_live_page_shows_the_current_level_when_the_document_has_one(
    client, engagement, observer, signed_off
):
    client.force_login(observer)
    page = client.get(reverse("live", args=[engagement.slug])).content.decode()
    assert 'Current level: <span class="muted">not recorded</span>' in page


def test_a_facilitator_creates_a_token_shown_once_and_stored_hashed(
    client, engagement, facilitator
):
    client.force_login(facilitator)
    page = client.post(
        reverse("api_tokens", args=[engagement.slug]), {"name": "OTel"}
    ).content.decode()
    token = ApiToken.objects.get()
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert token.secret_sha256 == token_digest(secret) and secret not in token.prefix
    assert secret not in client.get(reverse("api_tokens", args=[engagement.slug])).content.decode()
    assert Activity.objects.filter(verb="api_token.create", actor=facilitator).exists()


def test_a_facilitator_revokes_a_token(client, engagement, facilitator):
    token, _ = ApiToken.issue(engagement, "old exporter")
    client.force_login(facilitator)
    client.post(reverse("api_token_revoke", args=[engagement.slug, token.public_id]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Activity.objects.filter(verb="api_token.revoke", actor=facilitator).exists()


def test_a_token_needs_a_name(client, engagement, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("api_tokens", args=[engagement.slug]), {"name": ""})
    assert response.status_code == 422 and not ApiToken.objects.exists()


@pytest.mark.parametrize("member", ["observer", "reviewer", "approver"])
def test_only_facilitators_manage_tokens(client, engagement, member, request):
    token, _ = ApiToken.issue(engagement, "exporter")
    client.force_login(request.getfixturevalue(member))
    listing = client.get(reverse("api_tokens", args=[engagement.slug]))
    create = client.post(reverse("api_tokens", args=[engagement.slug]), {"name": "mine"})
    revoke = client.post(reverse("api_token_revoke", args=[engagement.slug, token.public_id]))
    assert (listing.status_code, create.status_code, revoke.status_code) == (403, 403, 403)
    assert ApiToken.objects.active().count() == 1


def test_an_outsider_sees_no_live_page_nor_tokens(client, engagement, outsider):
    token, _ = ApiToken.issue(engagement, "exporter")
    client.force_login(outsider)
    urls = [reverse("live", args=[engagement.slug]), reverse("api_tokens", args=[engagement.slug])]
    assert [client.get(url).status_code for url in urls] == [404, 404]
    revoke = client.post(reverse("api_token_revoke", args=[engagement.slug, token.public_id]))
    assert revoke.status_code == 404


def test_a_token_of_another_engagement_cannot_be_revoked_here(
    client, engagement, facilitator, outsider
):
    theirs, _ = ApiToken.issue(Engagement.objects.get(slug="elsewhere"), "theirs")
    client.force_login(facilitator)
    response = client.post(reverse("api_token_revoke", args=[engagement.slug, theirs.public_id]))
    assert response.status_code == 404


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("points.csv", text.encode(), content_type="text/csv")


def test_a_facilitator_uploads_a_csv_of_points(client, engagement, facilitator, signed_off):
    client.force_login(facilitator)
    body = "time,ai_system,output_type,metric,value,sample_size\n2026-11-01T00:00:00Z,claims-bot,,groundedness,0.9,5\n"
    response = client.post(reverse("live_upload", args=[engagement.slug]), {"file": _csv(body)})
    assert response.status_code == 302
    assert MetricPoint.objects.get().sample_size == 5


def test_an_upload_with_a_refused_line_names_it_and_stores_nothing(
    client, engagement, facilitator, signed_off
):
    client.force_login(facilitator)
    body = "time,ai_system,output_type,metric,value,sample_size\n2026-11-01T00:00:00Z,nobody,,groundedness,0.9,5\n"
    response = client.post(reverse("live_upload", args=[engagement.slug]), {"file": _csv(body)})
    assert response.status_code == 422
    assert "Line 2: unknown AI system nobody" in response.content.decode()
    assert not MetricPoint.objects.exists()


def _engagement_with_windows(slug: str, systems: int, days: int, facilitator, approver):
    """A signed-off engagement of `systems` systems, every bound fed a point a day for `days`."""
    engagement = make_engagement(slug=slug)
    fill_large_framework(
        engagement.framework, systems=systems, failure_modes=1, levels=2, drift_triggers=1
    )
    make_member(engagement, Role.FACILITATOR, facilitator)
    make_member(engagement, Role.APPROVER, approver)
    sign_off(engagement, make_version(engagement.framework), [approver])
    catalogue = Catalogue.for_engagement(engagement)
    start = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    points = [
        {
            "time": (start + datetime.timedelta(days=day)).isoformat(),
            "ai_system": system,
            "output_type": output,
            "metric": metric,
            "value": 1,
        }
        for system, output, metric in sorted(catalogue.measured)
        for day in range(days)
    ]
    store(engagement, check(read_json(json.dumps(points).encode()), catalogue).points)
    return engagement


def _queries(client, url: str) -> int:
    client.get(url)  # per-process caches warm up
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_live_page_query_count_does_not_grow_with_systems_or_windows(client, approver, facilitator):
    """Session, user and membership, the version in force with its evaluation mark and whether
    points exist, cases are in play and levels were decided (one query), the recent windows of
    every bound (one query): the same with one system and one window as with eight systems and
    40 windows of each bound."""
    client.force_login(facilitator)
    counts = [
        _queries(
            client,
            reverse(
                "live",
                args=[_engagement_with_windows(slug, systems, days, facilitator, approver).slug],
            ),
        )
        for slug, systems, days in (("one", 1, 1), ("many", 8, 40))
    ]
    assert WindowResult.objects.filter(engagement__slug="many").count() > 8 * 24
    assert counts[0] == counts[1]


def test_live_page_reads_cases_and_decided_levels_only_when_the_engagement_has_some(
    client, approver, facilitator
):
    engagement = _engagement_with_windows("quiet", 2, 1, facilitator, approver)
    url = reverse("live", args=[engagement.slug])
    client.force_login(facilitator)
    quiet = _queries(client, url)
    system = engagement.framework.ai_systems.order_by("position").first()
    version = engagement.framework.versions.get()
    EscalationCase.objects.create(
        engagement=engagement, version=version, kind=CaseKind.EXTERNAL_EVENT, ai_system=system.key
    )
    SystemLevel.objects.create(engagement=engagement, ai_system=system.key, level_key="moved-to")

    assert _queries(client, url) == quiet + 2  # the cases in play, the live levels
    assert "Current level: <strong>moved-to</strong>" in client.get(url).content.decode()


def test_live_page_shows_five_systems_a_page_and_says_how_many_there_are(
    client, approver, facilitator
):
    engagement = _engagement_with_windows("twelve", 12, 1, facilitator, approver)
    systems = list(engagement.framework.ai_systems.order_by("position").values_list("key", "name"))
    client.force_login(facilitator)
    url = reverse("live", args=[engagement.slug])
    first, last = (client.get(url, {"page": page}).content.decode() for page in (1, 3))
    assert "Showing 1–5 of 12 AI systems" in first
    assert f'id="system-{systems[4][0]}"' in first and f'id="system-{systems[5][0]}"' not in first
    assert "Showing 11–12 of 12 AI systems" in last
    assert f'id="system-{systems[11][0]}"' in last and f'id="system-{systems[0][0]}"' not in last
    assert "No points for this bound yet" not in last  # its windows were read for that page


def test_a_case_in_play_is_listed_on_every_page_with_a_link_to_its_systems_page(
    client, approver, facilitator
):
    engagement = _engagement_with_windows("cased", 12, 1, facilitator, approver)
    last = engagement.framework.ai_systems.order_by("position").last()
    version = engagement.framework.versions.get()
    case = EscalationCase.objects.create(
        engagement=engagement,
        version=version,
        kind=CaseKind.EXTERNAL_EVENT,
        ai_system=last.key,
    )
    client.force_login(facilitator)
    page = client.get(reverse("live", args=[engagement.slug])).content.decode()
    assert reverse("case_detail", args=[engagement.slug, case.public_id]) in page
    assert f'href="?page=3#system-{last.key}">{last.name}</a>' in page
