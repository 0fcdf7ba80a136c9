"""The PDF pack page: background generation through the real db_worker, downloads by role,
reuse of a stored pack, retry after a failure, and `manage.py export_pack`."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from escalation.models import Pack, PackStatus
from tests.factories import make_version, sign_off
from tests.framework_content import make_framework_content

# The worker closes connections between tasks (close_old_connections), which a test wrapped in
# a transaction cannot survive: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


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


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_reviewer_generates_a_draft_pack_in_the_background(client, reviewer, version):
    client.force_login(reviewer)
    response = client.post(url("pack_generate", 1))
    assert response.status_code == 302
    assert Pack.objects.get().status == PackStatus.QUEUED
    run_worker()
    assert Pack.objects.get().status == PackStatus.READY


def test_observer_cannot_generate_the_pack_of_an_unapproved_version(client, observer, version):
    client.force_login(observer)
    assert client.post(url("pack_generate", 1)).status_code == 403
    assert not Pack.objects.exists()


def test_observer_downloads_the_signed_pack_of_a_signed_off_version(
    client, observer, signed_version
):
    client.force_login(observer)
    client.post(url("pack_generate", 1))
    run_worker()
    pack = Pack.objects.get()
    response = client.get(reverse("pack_download", args=["acme", pack.public_id]))
    assert response["Content-Type"] == "application/pdf"
    assert len(PdfFileReader(io.BytesIO(response.content)).embedded_signatures) == 1


def test_observer_cannot_download_a_draft_pack(client, reviewer, observer, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    run_worker()
    client.force_login(observer)
    response = client.get(reverse("pack_download", args=["acme", Pack.objects.get().public_id]))
    assert response.status_code == 403


def test_outsider_cannot_download_a_pack(client, reviewer, outsider, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    run_worker()
    client.force_login(outsider)
    response = client.get(reverse("pack_download", args=["acme", Pack.objects.get().public_id]))
    assert response.status_code == 404


def test_generate_refuses_get(client, reviewer, version):
    client.force_login(reviewer)
    assert client.get(url("pack_generate", 1)).status_code == 405


def test_second_request_reuses_the_stored_pack(client, reviewer, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    run_worker()
    client.post(url("pack_generate", 1))
    assert Pack.objects.count() == 1 and Pack.objects.get().status == PackStatus.READY


def test_changed_draft_gets_a_new_pack(client, reviewer, version, engagement):
    client.force_login(reviewer)
    client.post(url("pack_generate"))
    engagement.framework.failure_modes.filter(key="jargon").delete()
    client.post(url("pack_generate"))
    assert Pack.objects.count() == 2


def test_status_fragment_polls_until_the_pack_is_ready(client, reviewer, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    polling = client.get(url("pack", 1), headers={"HX-Request": "true"}).content.decode()
    run_worker()
    finished = client.get(url("pack", 1), headers={"HX-Request": "true"}).content.decode()
    assert 'data-hx-trigger="every 1s"' in polling and "<progress" in polling
    assert 'data-hx-trigger="every 1s"' not in finished and "Download" in finished


def test_failed_run_shows_its_error_and_can_be_retried(client, approver, signed_version, settings):
    client.force_login(approver)
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = "/nonexistent/signing.pem"
    client.post(url("pack_generate", 1))
    run_worker()
    assert "could not be generated" in client.get(url("pack", 1)).content.decode()
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = ""
    client.post(url("pack_generate", 1))
    run_worker()
    pack = Pack.objects.get()
    assert (pack.status, pack.attempts, pack.error) == (PackStatus.READY, 2, "")


def test_export_pack_command_writes_the_signed_pack(signed_version, tmp_path):
    output = tmp_path / "pack.pdf"
    call_command("export_pack", "acme", "--version", "1", "-o", str(output), stdout=io.StringIO())
    assert len(PdfFileReader(io.BytesIO(output.read_bytes())).embedded_signatures) == 1


def test_export_pack_command_refuses_an_unknown_version(version, tmp_path):
    with pytest.raises(Exception, match="no version 9"):
        call_command("export_pack", "acme", "--version", "9", "-o", str(tmp_path / "x.pdf"))


def test_a_stalled_pack_can_be_started_again(client, reviewer, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    Pack.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert "taking far longer" in client.get(url("pack", 1)).content.decode()
    client.post(url("pack_generate", 1))
    run_worker()
    assert Pack.objects.get().status == PackStatus.READY


def test_unfinished_pack_cannot_be_downloaded(client, reviewer, version):
    client.force_login(reviewer)
    client.post(url("pack_generate", 1))
    response = client.get(reverse("pack_download", args=["acme", Pack.objects.get().public_id]))
    assert response.status_code == 404


def test_outsider_cannot_see_the_pack_page(client, outsider, version):
    client.force_login(outsider)
    assert client.get(url("pack", 1)).status_code == 404
