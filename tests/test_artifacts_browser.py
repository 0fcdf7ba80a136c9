"""The journey: an approver opens the signed-off version, starts the pack, watches the progress,
and downloads a signed PDF (the real db_worker runs in the test's main thread while the browser polls)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader

from escalation.models import Pack, PackStatus
from tests.factories import make_version, sign_off
from tests.framework_content import make_framework_content

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_worker() -> None:
    # db_worker installs signal handlers, so it runs in the main thread; the browser keeps polling
    # the live server (its own thread) meanwhile, as it would with a separate worker process.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_approver_generates_and_downloads_the_signed_pack(live_server, page, engagement, approver):
    make_framework_content(engagement.framework)
    sign_off(engagement, make_version(engagement.framework), [approver])

    page.goto(f"{live_server.url}/e/acme/versions/1/artifacts/")
    page.get_by_label("Username").fill("abe")
    page.get_by_label("Password").fill("pass-word-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="PDF pack").click()
    page.get_by_role("button", name="Generate pack").click()

    progress = page.get_by_role("progressbar", name="Pack generation progress")
    progress.wait_for()
    assert Pack.objects.get().status == PackStatus.QUEUED
    run_worker()
    download_link = page.get_by_role("link", name="Download")
    download_link.wait_for(timeout=60_000)
    with page.expect_download() as download_info:
        download_link.click()

    pdf = download_info.value.path().read_bytes()
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_signatures) == 1
    assert progress.count() == 0
