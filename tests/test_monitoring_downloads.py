"""The monitoring files of a signed-off version leave the system two ways: `manage.py
export_monitoring` and the downloads on the version's artifacts page, with the same bytes and the
same permission rule as the version's other files."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from escalation.caching import LOCAL, hashes_key
from escalation.exports import Stamp
from escalation.models import EscalationLevel, LevelKind
from tests.factories import make_version, sign_off
from tests.framework_content import make_framework_content
from workshops.packs import artifact_source, monitoring_cache_kind, monitoring_stamp

pytestmark = pytest.mark.django_db

FILES = ["prometheus-rules.yml", "prometheus-rules.test.yml", "openslo.yaml"]


@pytest.fixture
def version(engagement: Any) -> Any:
    make_framework_content(engagement.framework)
    return make_version(engagement.framework)


@pytest.fixture
def signed_version(engagement: Any, version: Any, approver: Any) -> Any:
    sign_off(engagement, version, [approver])
    return version


def file_url(filename: str = "prometheus-rules.yml", number: int = 1) -> str:
    return reverse(
        "version_monitoring_file", kwargs={"slug": "acme", "number": number, "filename": filename}
    )


def export(tmp_path: Any, slug: str = "acme", number: int = 1) -> list[str]:
    call_command(
        "export_monitoring", slug, "--version", str(number), "-o", str(tmp_path), stdout=StringIO()
    )
    return sorted(path.name for path in tmp_path.iterdir())


# The command


def test_command_writes_the_three_files_of_a_version_without_routing(tmp_path, signed_version):
    assert export(tmp_path) == sorted(FILES)


def test_command_writes_litellm_where_a_level_routes(tmp_path, engagement, approver):
    make_framework_content(engagement.framework)
    EscalationLevel.objects.filter(key="fine-tuning").update(kind=LevelKind.HYBRID_ROUTING)
    sign_off(engagement, make_version(engagement.framework), [approver])
    assert export(tmp_path) == sorted([*FILES, "litellm.yaml"])


def test_command_refuses_a_version_not_signed_off(tmp_path, version):
    with pytest.raises(CommandError, match="v1 of acme is not signed off"):
        export(tmp_path)


def test_command_refuses_a_missing_version(tmp_path, signed_version):
    with pytest.raises(CommandError, match="acme has no version 7"):
        export(tmp_path, number=7)


def test_command_writes_what_the_page_hands_out(tmp_path, client, observer, signed_version):
    export(tmp_path)
    client.force_login(observer)
    downloaded = client.get(file_url("openslo.yaml")).content
    assert downloaded == (tmp_path / "openslo.yaml").read_bytes()


# The downloads


def test_every_member_may_download_a_signed_off_versions_file(client, observer, signed_version):
    client.force_login(observer)
    response = client.get(file_url())
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["groups"]


def test_download_is_an_attachment_named_after_the_version(client, observer, signed_version):
    client.force_login(observer)
    disposition = client.get(file_url("openslo.yaml"))["Content-Disposition"]
    assert disposition == 'attachment; filename="acme-v1-openslo.yaml"'


def test_outsider_gets_404(client, outsider, signed_version):
    client.force_login(outsider)
    assert client.get(file_url()).status_code == 404


def test_a_version_not_signed_off_has_no_monitoring_files(client, reviewer, version):
    client.force_login(reviewer)
    assert client.get(file_url()).status_code == 404


def test_observer_is_refused_the_files_of_a_version_not_signed_off(client, observer, version):
    client.force_login(observer)
    assert client.get(file_url()).status_code == 403


def test_no_litellm_file_without_a_routing_level(client, observer, signed_version):
    client.force_login(observer)
    assert client.get(file_url("litellm.yaml")).status_code == 404


def test_unknown_file_gets_404(client, observer, signed_version):
    client.force_login(observer)
    assert client.get(file_url("passwords.yml")).status_code == 404


def test_download_refuses_post(client, observer, signed_version):
    client.force_login(observer)
    assert client.post(file_url()).status_code == 405


def test_a_browser_holding_the_file_gets_304(client, observer, signed_version):
    client.force_login(observer)
    etag = client.get(file_url())["ETag"]
    assert client.get(file_url(), headers={"if-none-match": etag}).status_code == 304


def test_each_file_has_its_own_etag(client, observer, signed_version):
    client.force_login(observer)
    etags = {client.get(file_url(name))["ETag"] for name in FILES}
    assert len(etags) == len(FILES)


def test_artifacts_page_offers_the_files_of_a_signed_off_version(client, observer, signed_version):
    client.force_login(observer)
    html = client.get(reverse("version_artifacts", kwargs={"slug": "acme", "number": 1})).content
    assert all(file_url(name).encode() in html for name in FILES)


def test_artifacts_page_offers_none_for_a_version_not_signed_off(client, reviewer, version):
    client.force_login(reviewer)
    html = client.get(reverse("version_artifacts", kwargs={"slug": "acme", "number": 1})).content
    assert b"/monitoring/" not in html


def test_a_signed_off_versions_file_is_served_from_the_cache_once_rendered(
    client, observer, engagement, signed_version
):
    client.force_login(observer)
    client.get(file_url())
    stamp = monitoring_stamp(artifact_source(engagement, 1))
    kind = monitoring_cache_kind(stamp, "prometheus-rules.yml")
    cache.set(hashes_key(kind, [signed_version.sha256]), "what the cache holds")
    LOCAL.clear()  # as in another process, which has the shared cache only
    assert client.get(file_url()).content == b"what the cache holds"


def test_the_same_document_signed_off_twice_is_cached_under_each_stamp():
    # A version may freeze the very document of an earlier one (A, B, then A again), and two
    # engagements may freeze the same one: each file names its own version and engagement.
    first, again = Stamp("Acme (acme)", 1, "0" * 64), Stamp("Acme (acme)", 3, "0" * 64)
    elsewhere = Stamp("Other (other)", 1, "0" * 64)
    kinds = {monitoring_cache_kind(stamp, "openslo.yaml") for stamp in (first, again, elsewhere)}
    assert len(kinds) == 3
