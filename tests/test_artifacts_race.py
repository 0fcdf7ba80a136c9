"""Two first requests for the same pack at the same moment, on two database connections."""

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from escalation.models import Pack
from escalation.pdf import PackContext
from escalation.tasks import request_pack
from tests.factories import make_version
from tests.framework_content import make_framework_content

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_requests_for_one_pack_create_it_once(engagement: Any) -> None:
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    context = PackContext(
        client="Acme",
        engagement="acme",
        version_label="v1",
        status="draft",
        signed_off=False,
        version_sha256=version.sha256,
        generated_at="2026-11-30T05:00:00+00:00",
    )
    first_requested = threading.Event()
    packs: dict[str, int] = {}

    def first_request() -> None:
        # Keeps its new pack uncommitted until the second request has reached the database.
        try:
            with transaction.atomic():
                pack = request_pack(engagement.framework, version, version.document, context)
                first_requested.set()
                threading.Event().wait(0.5)
            packs["first"] = pack.pk
        finally:
            connection.close()

    def second_request() -> None:
        try:
            first_requested.wait(5)
            pack = request_pack(engagement.framework, version, version.document, context)
            packs["second"] = pack.pk
        finally:
            connection.close()

    threads = [threading.Thread(target=first_request), threading.Thread(target=second_request)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert packs["first"] == packs["second"]
    assert Pack.objects.filter(version=version).count() == 1
