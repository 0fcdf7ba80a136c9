"""A version signed off after an earlier sign-off carries "Changes since vN": every item added,
removed or changed since the last signed-off version, each changed field's old and new value in
words, in the signed pack and on the artifact pages, from frozen data only."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from tests.factories import make_member, make_user, make_version, sign_off
from tests.framework_content import make_framework_content
from workshops.models import Role, SignoffRecord


@pytest.fixture
def approvers(engagement: Any, facilitator: Any) -> list[Any]:
    return [make_member(engagement, Role.APPROVER, make_user("ada", email="ada@acme.example"))]


@pytest.fixture
def v1(engagement: Any, approvers: list[Any]) -> Any:
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    sign_off(engagement, version, approvers)
    return version


@pytest.fixture
def changed_draft(engagement: Any, v1: Any) -> None:
    """After v1's sign-off: a level's cost ceiling raised, a failure mode dropped."""
    framework = engagement.framework
    framework.levels.filter(key="retrieval").update(cost_ceiling=Decimal("40000"))
    framework.failure_modes.filter(key="jargon").delete()


@pytest.fixture
def v2(engagement: Any, approvers: list[Any], changed_draft: None) -> Any:
    version = make_version(engagement.framework, 2)
    sign_off(engagement, version, approvers)
    return version


def export(number: int, tmp_path: Any) -> bytes:
    output = tmp_path / f"v{number}.pdf"
    call_command(
        "export_pack", "acme", "--version", str(number), "-o", str(output), stdout=io.StringIO()
    )
    return output.read_bytes()


def pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def test_signed_pack_of_v2_lists_every_change_since_v1(v2, tmp_path):
    text = pdf_text(export(2, tmp_path))
    assert "Changes since v1" in text
    assert "Changed: Retrieval augmentation" in text and "Cost ceiling: — → 40000.00" in text
    assert "Removed: Misread underwriting jargon" in text


def test_signed_pack_of_the_first_sign_off_has_no_changes_section(v2, tmp_path):
    assert "Changes since" not in pdf_text(export(1, tmp_path))


def test_signed_pack_with_its_changes_is_the_same_bytes_on_every_download(v2, tmp_path):
    assert export(2, tmp_path) == export(2, tmp_path)


def test_sign_off_record_names_the_signed_off_version_it_follows(v1, v2):
    records = {r.content["version"]["number"]: r.content for r in SignoffRecord.objects.all()}
    assert records[1]["previous_signoff"] is None
    assert records[2]["previous_signoff"] == {"number": 1, "sha256": v1.sha256}


def test_changes_come_from_the_frozen_versions_not_the_draft(engagement, v2, tmp_path):
    engagement.framework.levels.filter(key="retrieval").update(cost_ceiling=Decimal("99999"))
    assert "99999" not in pdf_text(export(2, tmp_path))


def test_a_record_that_predates_naming_the_earlier_version_renders_without_the_section(
    v2, tmp_path
):
    # Such a record, as the owner (past the append-only trigger) rewrites one into it.
    record = SignoffRecord.objects.get(review__version=v2)
    content = {k: v for k, v in record.content.items() if k != "previous_signoff"}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE workshops_signoffrecord SET content = %s, sha256 = %s WHERE id = %s",
            [json.dumps(content), SignoffRecord.hash_content(content), record.pk],
        )
        cursor.execute("SET session_replication_role = origin")
    text = pdf_text(export(2, tmp_path))
    assert "Changes since" not in text and "Sign-off record SHA-256" in text


def test_artifacts_page_of_v2_shows_the_changes_since_v1(client, approvers, v2):
    client.force_login(approvers[0])
    page = client.get(reverse("version_artifacts", args=["acme", 2])).content.decode()
    assert "Changes since v1" in page and "40000.00" in page


def test_artifacts_page_of_a_version_in_review_shows_the_changes_since_the_last_sign_off(
    client, engagement, facilitator, changed_draft
):
    make_version(engagement.framework, 2)
    client.force_login(facilitator)
    page = client.get(reverse("version_artifacts", args=["acme", 2])).content.decode()
    assert "Changes since v1" in page and "Misread underwriting jargon" in page


def test_artifacts_page_of_the_first_signed_off_version_has_no_changes_section(
    client, approvers, v2
):
    client.force_login(approvers[0])
    page = client.get(reverse("version_artifacts", args=["acme", 1])).content.decode()
    assert "Changes since" not in page


def test_verify_register_passes_two_sign_offs_in_a_row(v2):
    output = io.StringIO()
    call_command("verify_register", "acme", stdout=output)
    assert "The ledger of acme is whole" in output.getvalue()
