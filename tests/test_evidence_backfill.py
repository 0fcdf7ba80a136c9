"""Sign-offs made before the evidence register existed: a database migrated from before workshops
0008 holds a signed-off version, its approvals and its stored signed pack, with no ledger entry and
no sign-off record. `manage.py backfill_register` chains them in, so `verify_register` passes."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from escalation.models import Pack
from escalation.versions import freeze_version
from tests.factories import make_user
from tests.framework_content import make_framework, make_framework_content
from workshops.models import Engagement, LedgerEntry, SignoffRecord
from workshops.packs import artifact_source, signed_pack

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_REGISTER = [("workshops", "0007_review_terms_and_step_up")]


def migrate(targets: list[tuple[str, str]] | None = None) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def sign_off_before_the_register(old: Any) -> None:
    """What the application wrote before 0008: a version submitted, approved by the one approver
    and signed off, with the terms and the approval 0007 knew of."""
    framework = make_framework_content(make_framework(name="Legacy framework"))
    version = freeze_version(framework, "First cut", "Fay")
    user = old.get_model("auth", "User").objects.create(
        username="ada", email="ada@legacy.example", first_name="Ada"
    )
    engagement = old.get_model("workshops", "Engagement").objects.create(
        slug="legacy",
        client_organisation="Legacy Ltd",
        title="Escalation framework",
        start_date=datetime.date(2026, 6, 1),
        framework_id=framework.pk,
    )
    old.get_model("workshops", "Membership").objects.create(
        engagement=engagement, user=user, role="approver"
    )
    submitted = timezone.now() - datetime.timedelta(days=30)
    review = old.get_model("workshops", "Review").objects.create(
        version_id=version.pk,
        engagement=engagement,
        state="approved",
        submitted_at=submitted,
        signed_off_at=submitted + datetime.timedelta(days=1),
        signoff_rule="all_approvers",
    )
    old.get_model("workshops", "RequiredApprover").objects.create(
        review=review, user=user, name="Ada", email=user.email, role="approver"
    )
    old.get_model("workshops", "Approval").objects.create(
        review=review,
        approver=user,
        decision="approved",
        sha256=version.sha256,
        approver_name="Ada",
        approver_email=user.email,
        approver_role="approver",
        authenticated_via="unrecorded",
        created_at=submitted + datetime.timedelta(days=1),
    )


@pytest.fixture
def legacy() -> Iterator[Engagement]:
    """The legacy engagement after upgrading: its v1 signed pack was handed out before the
    register, and v2 was frozen since (the register's first entry)."""
    try:
        sign_off_before_the_register(migrate(BEFORE_THE_REGISTER))
        migrate()
        engagement = Engagement.objects.get(slug="legacy")
        signed_pack(artifact_source(engagement, 1))
        engagement.framework.failure_modes.filter(key="jargon").delete()
        engagement.freeze_version(make_user("fred"), "After the upgrade")
        yield engagement
    finally:  # leave the test database fully migrated for the tests after this one
        migrate()


def verify(slug: str = "legacy") -> str:
    output = io.StringIO()
    call_command("verify_register", slug, stdout=output)
    return output.getvalue()


def backfill() -> str:
    output = io.StringIO()
    call_command("backfill_register", "legacy", stdout=output)
    return output.getvalue()


def test_a_register_begun_after_a_sign_off_fails_verification_naming_what_it_lacks(legacy):
    with pytest.raises(CommandError, match="v1: is not in the register's ledger"):
        verify()


def test_backfill_chains_the_old_version_approval_and_sign_off_so_the_register_verifies(legacy):
    assert backfill().splitlines() == [
        "legacy: added v1: frozen version",
        f"legacy: added v1: approval {legacy.reviews.get(version__number=1).approvals.get().pk}",
        f"legacy: added v1: sign-off record {SignoffRecord.objects.get().pk}",
    ]
    report = verify()
    assert "signed pack of v1 (made before the register)" in report
    assert "The ledger of legacy is whole" in report


def test_backfill_run_twice_adds_nothing(legacy):
    backfill()
    entries = LedgerEntry.objects.count()
    assert "holds everything already" in backfill()
    assert LedgerEntry.objects.count() == entries


def test_backfilled_record_says_so_and_keeps_what_the_handed_out_pack_printed(legacy):
    handed_out = Pack.objects.get(signed=True)
    backfill()
    record = SignoffRecord.objects.get()
    assert record.content["backfilled_at"]
    assert record.content["pack"]["generated_at"] == handed_out.context["generated_at"]
    assert [a["email"] for a in record.content["approvals"]] == ["ada@legacy.example"]


def test_the_signed_pack_after_backfill_names_the_record_and_still_verifies(legacy):
    backfill()
    pack = signed_pack(artifact_source(legacy, 1))
    assert pack.pk != Pack.objects.order_by("created_at").first().pk
    assert "signed pack of v1" in verify()


def test_the_clients_copy_of_a_pack_from_before_the_register_verifies_after_backfill(
    legacy, tmp_path
):
    kept = tmp_path / "client-copy.pdf"
    kept.write_bytes(bytes(Pack.objects.get(signed=True).pdf))
    backfill()
    output = io.StringIO()
    call_command("verify_register", "legacy", "--pack", str(kept), stdout=output)
    assert "the given pack (made before the register)" in output.getvalue()


def test_the_clients_copy_of_a_pack_from_before_the_register_is_refused_until_backfill(
    legacy, tmp_path
):
    kept = tmp_path / "client-copy.pdf"
    kept.write_bytes(bytes(Pack.objects.get(signed=True).pdf))
    output = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_register", "legacy", "--pack", str(kept), stdout=output)
    assert "the sign-off record it names is not in this register" in output.getvalue()
