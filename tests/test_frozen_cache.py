"""Frozen versions never change: what is rendered from one is computed once, kept in the cache
under its hash, and downloads carry an ETag from the hash so a browser revalidates for free."""

import os

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.caching import LOCAL
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
    cache.set(f"frozen:matrix.csv:{version.sha256}", "what the cache holds")
    LOCAL.clear()  # as in another process, which has the shared cache only
    response = _download(client, facilitator, "version_matrix_csv", 1)
    assert response.content == b"what the cache holds"


def test_a_process_serves_a_file_it_has_rendered_from_its_own_memory(client, facilitator, version):
    first = _download(client, facilitator, "version_matrix_csv", 1)
    cache.delete(f"frozen:matrix.csv:{version.sha256}")
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
    assert cache.get(f"frozen:diff:{version.sha256}:{second.sha256}") is not None


def test_a_versions_artifacts_are_laid_out_once(client, facilitator, version):
    client.force_login(facilitator)
    url = reverse("version_artifacts", args=["acme", 1])
    assert "Claims summariser" in client.get(url).content.decode()
    key = make_template_fragment_key(
        "artifacts-content",
        [version.sha256, LADDER_DRAWING_VERSION, ""],  # no holidays
    )
    cache.set(key, "what the cache holds", None)
    assert "what the cache holds" in client.get(url).content.decode()


def test_a_versions_artifacts_laid_out_with_an_earlier_ladder_drawing_are_laid_out_again(
    client, facilitator, version
):
    # Before the drawing had a version, the page was kept under the document's hash alone.
    cache.set(make_template_fragment_key("artifacts-content", [version.sha256]), "old", None)
    client.force_login(facilitator)
    page = client.get(reverse("version_artifacts", args=["acme", 1])).content.decode()
    assert ">old<" not in page and 'id="legend"' in page


def test_a_versions_ladder_file_drawn_by_an_earlier_builder_is_drawn_again(
    client, facilitator, version
):
    cache.set(f"frozen:ladder.svg:{version.sha256}", b"<svg>old</svg>")
    response = _download(client, facilitator, "version_ladder_svg", 1)
    assert b"<svg>old</svg>" not in response.content and b'id="legend"' in response.content


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
