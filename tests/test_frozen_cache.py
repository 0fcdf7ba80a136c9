"""Frozen versions never change: what is rendered from one is computed once, kept in the cache
under its hash, and downloads carry an ETag from the hash so a browser revalidates for free."""

import dataclasses
import hashlib
import os

import icalendar
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.caching import LOCAL, hashes_key
from escalation.diagram import LADDER_DRAWING_VERSION
from tests.factories import make_version
from tests.framework_content import make_framework_content


@pytest.fixture
def version(engagement):
    make_framework_content(engagement.framework)
    return make_version(engagement.framework)


def _download(client, user, name, *args, **headers):
    client.force_login(user)
    return client.get(reverse(name, args=["acme", *args]), headers=headers)


def test_a_versions_download_carries_an_etag_from_its_hash(client, facilitator, version):
    response = _download(client, facilitator, "version_register_csv", 1)
    assert response["ETag"] == f'"{version.sha256}-register.csv"'


def test_a_browser_holding_the_download_gets_304_not_modified(client, facilitator, version):
    etag = f'"{version.sha256}-register.csv"'
    response = _download(client, facilitator, "version_register_csv", 1, if_none_match=etag)
    assert (response.status_code, response.content) == (304, b"")


def test_another_files_etag_gets_the_file(client, facilitator, version):
    etag = f'"{version.sha256}-matrix.csv"'
    response = _download(client, facilitator, "version_register_csv", 1, if_none_match=etag)
    assert response.status_code == 200


def test_an_outsider_with_the_etag_gets_404_not_304(client, outsider, engagement, version):
    etag = f'"{version.sha256}-register.csv"'
    response = _download(client, outsider, "version_register_csv", 1, if_none_match=etag)
    assert response.status_code == 404


def test_an_observer_with_the_etag_of_an_unsigned_versions_file_gets_403_not_304(
    client, observer, version
):
    etag = f'"{version.sha256}-register.csv"'
    response = _download(client, observer, "version_register_csv", 1, if_none_match=etag)
    assert response.status_code == 403


def test_the_working_drafts_download_has_no_etag(client, facilitator, version):
    assert "ETag" not in _download(client, facilitator, "register_csv")


def test_a_versions_file_is_served_from_the_cache_once_rendered(client, facilitator, version):
    _download(client, facilitator, "version_matrix_csv", 1)
    cache.set(hashes_key("matrix.csv", [version.sha256]), "what the cache holds")
    LOCAL.clear()  # as in another process, which has the shared cache only
    response = _download(client, facilitator, "version_matrix_csv", 1)
    assert response.content == b"what the cache holds"


def test_a_process_serves_a_file_it_has_rendered_from_its_own_memory(client, facilitator, version):
    first = _download(client, facilitator, "version_matrix_csv", 1)
    cache.delete(hashes_key("matrix.csv", [version.sha256]))
    with CaptureQueriesContext(connection) as queries:
        again = _download(client, facilitator, "version_matrix_csv", 1)
    assert again.content == first.content
    assert not [query for query in queries if "django_cache" in query["sql"]]


def test_the_diff_of_two_frozen_versions_is_cached_by_their_hashes(
    client, facilitator, engagement, version
):
    engagement.framework.sunset_criteria = "Changed for v2."
    engagement.framework.save(update_fields=["sunset_criteria"])
    second = make_version(engagement.framework, 2)
    client.force_login(facilitator)
    client.get(reverse("version_compare", args=["acme"]), {"a": 1, "b": 2})
    assert cache.get(hashes_key("diff", [version.sha256, second.sha256])) is not None


def _second_version(engagement):
    engagement.framework.sunset_criteria = "Revisit after two cycles."
    engagement.framework.save(update_fields=["sunset_criteria"])
    return make_version(engagement.framework, 2)


def test_the_changes_between_two_versions_are_rendered_once_by_their_hashes(
    client, facilitator, engagement, version
):
    second = _second_version(engagement)
    client.force_login(facilitator)
    url = reverse("version_compare", args=["acme"])
    assert "Revisit after two cycles." in client.get(url, {"a": 1, "b": 2}).content.decode()
    key = hashes_key("changes-html:1:2", [version.sha256, second.sha256])
    cache.set(key, dataclasses.replace(cache.get(key), html="what the cache holds"))
    LOCAL.clear()  # as in another process, which has the shared cache only
    assert "what the cache holds" in client.get(url, {"a": 1, "b": 2}).content.decode()


def test_the_changes_from_a_version_to_the_draft_follow_an_edit_of_the_draft(
    client, facilitator, engagement, version
):
    client.force_login(facilitator)
    url = reverse("version_compare", args=["acme"])
    assert "No differences" in client.get(url, {"a": 1, "b": "draft"}).content.decode()
    engagement.framework.sunset_criteria = "Revisit after two cycles."
    engagement.framework.save(update_fields=["sunset_criteria"])
    page = client.get(url, {"a": 1, "b": "draft"}).content.decode()
    assert "0 added, 1 changed, 0 removed" in page and "Revisit after two cycles." in page


@pytest.fixture
def reviewed(engagement, facilitator):
    """v1, and v2 with a new sunset rule, each frozen with its review as the app does."""
    make_framework_content(engagement.framework)
    engagement.freeze_version(facilitator, "First cut")
    engagement.framework.sunset_criteria = "Revisit after two cycles."
    engagement.framework.save(update_fields=["sunset_criteria"])
    return engagement.freeze_version(facilitator, "Sunset named")


def test_a_version_page_shows_its_changes_as_rendered_for_the_compare_page(
    client, facilitator, reviewed
):
    client.force_login(facilitator)
    client.get(reverse("version_compare", args=["acme"]), {"a": 1, "b": 2})
    page = client.get(reverse("version_detail", args=["acme", 2])).content.decode()
    first = reviewed.baseline().version
    rendered = cache.get(hashes_key("changes-html:1:2", [first.sha256, reviewed.version.sha256]))
    assert "Revisit after two cycles." in page and rendered.html in page


def test_a_version_page_prints_the_name_kept_with_its_printed_page(client, facilitator, reviewed):
    client.force_login(facilitator)
    url = reverse("version_detail", args=["acme", 2])
    client.get(url)
    # Page 1 of v2 in acme, as it prints against its baseline v1 (the "changed" marks name it).
    first = reviewed.baseline().version
    key = hashes_key("version-page:acme:2:1:1", [reviewed.version.sha256, first.sha256])
    cache.set(key, dataclasses.replace(cache.get(key), name="What the cache holds"))
    LOCAL.clear()  # as in another process, which has the shared cache only
    assert "<h1>What the cache holds — v2</h1>" in client.get(url).content.decode()


def _calendar(response):
    return icalendar.Calendar.from_ical(response.content)


def test_a_versions_calendar_is_stamped_when_the_version_was_frozen(client, facilitator, version):
    calendar = _calendar(_download(client, facilitator, "version_review_cycle_ics", 1))
    stamps = {event.decoded("dtstamp") for event in calendar.walk("VEVENT")}
    assert stamps == {version.created_at.replace(microsecond=0)}


def test_a_versions_calendar_is_the_same_file_each_time_with_an_etag(client, facilitator, version):
    first = _download(client, facilitator, "version_review_cycle_ics", 1)
    second = _download(client, facilitator, "version_review_cycle_ics", 1)
    assert first.content == second.content
    assert second["ETag"].startswith(f'"{version.sha256}-reviews.ics:')


def test_a_browser_holding_a_versions_calendar_gets_304_not_modified(client, facilitator, version):
    etag = _download(client, facilitator, "version_review_cycle_ics", 1)["ETag"]
    response = _download(client, facilitator, "version_review_cycle_ics", 1, if_none_match=etag)
    assert response.status_code == 304


def test_a_versions_calendar_follows_a_new_name_of_the_client(
    client, facilitator, engagement, version
):
    _download(client, facilitator, "version_review_cycle_ics", 1)
    engagement.client_organisation = "Acme Mutual"
    engagement.save(update_fields=["client_organisation"])
    calendar = _calendar(_download(client, facilitator, "version_review_cycle_ics", 1))
    assert calendar["X-WR-CALNAME"] == "Acme Mutual escalation framework reviews"


def test_a_versions_artifacts_are_laid_out_once(client, facilitator, version):
    client.force_login(facilitator)
    url = reverse("version_artifacts", args=["acme", 1])
    assert "Claims summariser" in client.get(url).content.decode()
    no_holidays = hashlib.sha256(b"").hexdigest()
    kind = f"artifacts-html.v{LADDER_DRAWING_VERSION}"
    cache.set(hashes_key(kind, [version.sha256, no_holidays]), b"what the cache holds", None)
    LOCAL.clear()
    assert "what the cache holds" in client.get(url).content.decode()


def test_a_versions_artifacts_laid_out_with_an_earlier_ladder_drawing_are_laid_out_again(
    client, facilitator, version
):
    # Laid out by an earlier drawing of the ladder, the page was kept under another kind; so
    # it was by releases that kept it as text, not bytes.
    no_holidays = hashlib.sha256(b"").hexdigest()
    for earlier in (
        f"artifacts-html.v{LADDER_DRAWING_VERSION - 1}",
        f"artifacts-content.v{LADDER_DRAWING_VERSION}",
    ):
        cache.set(hashes_key(earlier, [version.sha256, no_holidays]), "old", None)
    client.force_login(facilitator)
    page = client.get(reverse("version_artifacts", args=["acme", 1])).content.decode()
    assert ">old<" not in page and 'id="legend"' in page


def test_a_versions_ladder_file_drawn_by_an_earlier_builder_is_drawn_again(
    client, facilitator, version
):
    cache.set(f"frozen:ladder.svg:{version.sha256}", b"<svg>old</svg>")  # an earlier build
    response = _download(client, facilitator, "version_ladder_svg", 1)
    assert b"<svg>old</svg>" not in response.content and b'id="legend"' in response.content


def test_what_an_earlier_release_of_the_code_rendered_is_not_served(
    client, facilitator, version, monkeypatch
):
    _download(client, facilitator, "version_matrix_csv", 1)
    cache.set(hashes_key("matrix.csv", [version.sha256]), "what the old release printed")
    LOCAL.clear()
    monkeypatch.setattr("escalation.caching.CODE_VERSION", "next-release")
    response = _download(client, facilitator, "version_matrix_csv", 1)
    assert response.status_code == 200
    assert response.content != b"what the old release printed"


def test_a_browser_holding_a_ladder_drawn_by_an_earlier_builder_gets_the_new_one(
    client, facilitator, version
):
    etag = f'"{version.sha256}-ladder.svg"'
    response = _download(client, facilitator, "version_ladder_svg", 1, if_none_match=etag)
    assert response.status_code == 200


@pytest.fixture
def refusing_graphviz(tmp_path, monkeypatch):
    """A `dot` that refuses every ladder, first on PATH; `monkeypatch.undo()` brings back the
    real one."""
    dot = tmp_path / "dot"
    # It reads its input first, as graphviz does, so the pipe never breaks under a slow writer.
    dot.write_text("#!/bin/sh\ncat >/dev/null\necho 'Error: syntax error' >&2\nexit 1\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    return monkeypatch


def test_a_ladder_graphviz_refused_is_not_kept_in_the_versions_artifacts(
    client, facilitator, version, refusing_graphviz
):
    client.force_login(facilitator)
    url = reverse("version_artifacts", args=["acme", 1])
    refused = client.get(url).content.decode()
    assert "The ladder diagram could not be drawn" in refused and "Claims summariser" in refused
    refusing_graphviz.undo()
    drawn = client.get(url).content.decode()
    assert "The ladder diagram could not be drawn" not in drawn and "<svg" in drawn


def test_a_ladder_download_graphviz_refused_is_not_kept_either(
    client, facilitator, version, refusing_graphviz
):
    assert _download(client, facilitator, "version_ladder_svg", 1).status_code == 422
    refusing_graphviz.undo()
    response = _download(client, facilitator, "version_ladder_svg", 1)
    assert response.status_code == 200 and response.content.startswith(b"<?xml")
