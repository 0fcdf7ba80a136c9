"""The evidence register: a sign-off record frozen once, the signed pack rendered from it once,
append-only evidence in the database, the hash chain `verify_register` walks, and the tampering
it reveals."""

from __future__ import annotations

import io
import secrets
import subprocess
from typing import Any

import psycopg
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from escalation import artifacts
from escalation.models import Pack
from tests.factories import SEEDED, make_member, make_user, make_version, sign_off
from tests.framework_content import make_framework_content
from workshops.models import (
    Approval,
    CommentResolution,
    DayNote,
    Engagement,
    LedgerEntry,
    Membership,
    Role,
    SignoffRecord,
)
from workshops.packs import artifact_source, signed_pack

EVIDENCE_TABLES = [
    "escalation_frameworkversion",
    "workshops_approval",
    "workshops_requiredapprover",
    "workshops_reviewevent",
    "workshops_comment",
    "workshops_commentresolution",
    "workshops_activity",
    "workshops_signoffrecord",
    "workshops_ledgerentry",
]


@pytest.fixture
def approvers(engagement: Any) -> list[Any]:
    return [
        make_member(engagement, Role.APPROVER, make_user(name, email=f"{name}@acme.example"))
        for name in ("ada", "alan")
    ]


@pytest.fixture
def signed_off(engagement: Any, facilitator: Any, approvers: list[Any]) -> Any:
    """Version 1 of a full framework, with a resolved thread, signed off by both approvers, with
    a decision on day 2."""
    make_framework_content(engagement.framework)
    DayNote.objects.create(engagement=engagement, day_number=2, decisions="Keep every ceiling.")
    version = make_version(engagement.framework)
    review = engagement.reviews.create(version=version)
    review.add_comment(approvers[0], "Reads well?").resolve(approvers[0])
    sign_off(engagement, version, approvers)
    return version


def pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def export(slug: str, number: int, tmp_path: Any, name: str) -> bytes:
    output = tmp_path / name
    call_command(
        "export_pack", slug, "--version", str(number), "-o", str(output), stdout=io.StringIO()
    )
    return output.read_bytes()


def verify(slug: str) -> str:
    output = io.StringIO()
    call_command("verify_register", slug, stdout=output)
    return output.getvalue()


def as_owner_without_triggers(statement: str, params: list[Any]) -> None:
    """Tamper as the table owner can: with triggers (and foreign keys) switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(statement, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


# The sign-off record.


def test_sign_off_writes_one_record_with_its_own_hash(signed_off):
    record = SignoffRecord.objects.get()
    assert record.content["version"]["sha256"] == signed_off.sha256
    assert record.sha256 == SignoffRecord.hash_content(record.content)


def test_record_keeps_each_approvers_name_email_role_and_hash(signed_off):
    approvals = SignoffRecord.objects.get().content["approvals"]
    assert [(a["email"], a["role"], a["sha256"]) for a in approvals] == [
        ("ada@acme.example", "Approver", signed_off.sha256),
        ("alan@acme.example", "Approver", signed_off.sha256),
    ]


def test_record_keeps_how_each_approver_authenticated_and_the_terms_they_signed_under(
    signed_off,
):
    content = SignoffRecord.objects.get().content
    recorded = [
        (a["name"], a["authenticated_via"], a["authenticated_at"]) for a in content["approvals"]
    ]
    assert recorded == [
        (a.approver_name, "seeded", a.authenticated_at.isoformat())
        for a in Approval.objects.order_by("id")
    ]
    assert [name for name, _, _ in recorded] == ["Ada", "Alan"]
    assert content["terms"] == {
        "rule": "all_approvers",
        "required_approvers": [
            {"name": "Ada", "email": "ada@acme.example", "role": "Approver"},
            {"name": "Alan", "email": "alan@acme.example", "role": "Approver"},
        ],
    }


def test_record_names_each_approver_as_they_were_when_they_approved(
    engagement, facilitator, approvers
):
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    review = engagement.reviews.create(version=version)
    review.submit(facilitator, notify=False)
    review.approve(approvers[0], authentication=SEEDED)
    approvers[0].first_name, approvers[0].email = "Chief Executive", "ceo@acme.example"
    approvers[0].save()
    assert review.approve(approvers[1], authentication=SEEDED)
    recorded = SignoffRecord.objects.get().content["approvals"]
    assert [(a["name"], a["email"]) for a in recorded] == [
        ("Ada", "ada@acme.example"),
        ("Alan", "alan@acme.example"),
    ]


def test_a_resubmission_adds_its_own_terms_beside_the_earlier_ones(
    engagement, facilitator, approvers
):
    make_framework_content(engagement.framework)
    review = engagement.reviews.create(version=make_version(engagement.framework))
    review.submit(facilitator, notify=False)
    review.withdraw(facilitator, "Alan moves to the review team")
    Membership.objects.get(engagement=engagement, user=approvers[1]).change_role(Role.REVIEWER)
    review.submit(facilitator, notify=False)
    assert review.required.count() == 3  # the first submission's two terms are kept
    assert [r.email for r in review.required_approvers()] == ["ada@acme.example"]
    # Alan's earlier terms hold nothing back: he may leave while the new review runs.
    Membership.objects.get(engagement=engagement, user=approvers[1]).remove()
    assert review.approve(approvers[0], authentication=SEEDED)


def test_record_keeps_the_title_client_and_decisions_of_the_moment(signed_off):
    pack = SignoffRecord.objects.get().content["pack"]
    assert (pack["client"], pack["engagement"]) == ("Acme Insurance", "Escalation framework")
    assert "Keep every ceiling." in [decision["text"] for decision in pack["decisions"]]


def test_signed_pack_is_the_same_bytes_after_the_day_notes_title_and_names_change(
    signed_off, engagement, approvers, tmp_path
):
    first = export("acme", 1, tmp_path, "first.pdf")
    DayNote.objects.filter(day_number=2).update(decisions="Client waived all cost ceilings")
    Engagement.objects.filter(pk=engagement.pk).update(title="Retitled", client_organisation="X")
    approvers[0].first_name = "Impostor"
    approvers[0].save()
    assert export("acme", 1, tmp_path, "second.pdf") == first
    assert "waived" not in pdf_text(first)


def test_signed_pack_prints_every_cost_ceiling_each_email_and_the_ledger_head(signed_off):
    text = pdf_text(bytes(signed_pack(artifact_source(signed_off.review.engagement, 1)).pdf))
    squeezed = text.replace(" ", "")
    ceilings = [row["cost_ceiling"] for row in artifacts.ladder(signed_off.document)]
    assert [c for c in ceilings if c.replace(" ", "") not in squeezed] == []
    assert "ada@acme.example" in text and "alan@acme.example" in text
    assert LedgerEntry.objects.head(signed_off.review.engagement).entry_hash in squeezed


def test_pdfsig_validates_the_stored_signed_pack(signed_off, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(export("acme", 1, tmp_path, "signed.pdf"))
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in report


# Append-only evidence.


CHANGE_TIME = "created_at = created_at + interval '1 second'"
CHANGE = {"workshops_requiredapprover": "email = 'ceo@acme.example'"}


@pytest.mark.parametrize("table", EVIDENCE_TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET {change}",
        "DELETE FROM {table}",
        "TRUNCATE {table} CASCADE",
    ],
    ids=["update", "delete", "truncate"],
)
def test_raw_sql_cannot_change_remove_or_truncate_evidence(signed_off, table, statement):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants no pending checks
        cursor.execute(statement.format(table=table, change=CHANGE.get(table, CHANGE_TIME)))


def test_a_signed_pack_once_stored_cannot_be_regenerated_or_deleted(signed_off):
    pack = signed_pack(artifact_source(signed_off.review.engagement, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Pack.objects.filter(pk=pack.pk).update(pdf=b"%PDF forged")
    with pytest.raises(IntegrityError), transaction.atomic():
        Pack.objects.filter(pk=pack.pk).delete()


def test_resolving_a_thread_adds_a_resolution_and_edits_no_comment(
    engagement, facilitator, reviewer
):
    make_framework_content(engagement.framework)
    review = engagement.freeze_version(facilitator, "First cut")
    comment = review.add_comment(reviewer, "Is this right?")
    comment.resolve(reviewer)
    assert CommentResolution.objects.get(comment=comment).resolved_by == reviewer
    comment.body = "Rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        comment.save()


def test_an_account_that_commented_cannot_be_deleted_so_its_name_stays_on_the_evidence(
    engagement, facilitator, reviewer
):
    make_framework_content(engagement.framework)
    engagement.freeze_version(facilitator, "First cut").add_comment(reviewer, "Is this right?")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        reviewer.delete()


def test_an_engagement_with_evidence_cannot_be_deleted(signed_off, engagement):
    with pytest.raises(PermissionDenied, match="archive the engagement instead"):
        engagement.delete()


def test_the_database_refuses_deleting_an_engagement_with_evidence(signed_off, engagement):
    refused = pytest.raises(IntegrityError, match="archive it instead")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workshops_engagement WHERE id = %s", [engagement.pk])


def test_admin_offers_no_change_or_deletion_of_evidence(admin_client, signed_off, engagement):
    approval = Approval.objects.first()
    change = reverse("admin:workshops_approval_change", args=[approval.pk])
    assert b'name="sha256"' not in admin_client.get(change).content
    delete = reverse("admin:workshops_engagement_delete", args=[engagement.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


# The hash chain and verify_register.


def test_ledger_chains_the_version_each_approval_and_the_sign_off(signed_off):
    entries = list(LedgerEntry.objects.order_by("sequence"))
    assert [e.kind for e in entries] == ["version", "approval", "approval", "signoff"]
    assert all(b.previous_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))


def test_verify_register_passes_an_untouched_register_with_its_signed_pack(signed_off, tmp_path):
    export("acme", 1, tmp_path, "signed.pdf")
    report = verify("acme")
    assert "pack      signed pack of v1" in report and "The ledger of acme is whole" in report


def test_verify_register_names_a_version_whose_document_and_hash_were_rewritten(signed_off):
    as_owner_without_triggers(
        "UPDATE escalation_frameworkversion SET document = jsonb_set(document, '{name}', "
        "'\"Forged\"'), sha256 = %s WHERE id = %s",
        ["f" * 64, signed_off.pk],
    )
    with pytest.raises(CommandError, match=r"first broken: entry 1 \(frozen version \d+ of v1\)"):
        verify("acme")


def test_verify_register_names_a_rewritten_approval(signed_off):
    approval = Approval.objects.order_by("id").last()
    as_owner_without_triggers(
        "UPDATE workshops_approval SET sha256 = %s WHERE id = %s", ["e" * 64, approval.pk]
    )
    with pytest.raises(CommandError, match=rf"entry 3 \(approval {approval.pk} of v1\).*changed"):
        verify("acme")


def test_verify_register_names_an_approval_whose_authentication_was_rewritten(signed_off):
    approval = Approval.objects.order_by("id").first()
    as_owner_without_triggers(
        "UPDATE workshops_approval SET authenticated_via = 'password' WHERE id = %s",
        [approval.pk],
    )
    with pytest.raises(CommandError, match=rf"entry 2 \(approval {approval.pk} of v1\).*changed"):
        verify("acme")


def test_verify_register_names_a_deleted_sign_off_record(signed_off):
    record = SignoffRecord.objects.get()
    as_owner_without_triggers("DELETE FROM workshops_signoffrecord WHERE id = %s", [record.pk])
    with pytest.raises(
        CommandError, match=rf"entry 4 \(sign-off record {record.pk} of v1\).*deleted"
    ):
        verify("acme")


def test_verify_register_notices_an_entry_removed_from_the_chain(signed_off):
    as_owner_without_triggers("DELETE FROM workshops_ledgerentry WHERE sequence = 2", [])
    with pytest.raises(CommandError, match="first broken: entry 3 .*an entry is missing"):
        verify("acme")


def test_verify_register_notices_a_rewritten_entry_with_a_recomputed_hash(signed_off):
    as_owner_without_triggers(
        "UPDATE workshops_ledgerentry SET payload = jsonb_set(payload, '{sha256}', %s), "
        "entry_hash = %s WHERE sequence = 2",
        ['"' + "d" * 64 + '"', "c" * 64],
    )
    with pytest.raises(CommandError, match=r"first broken: entry 2 .*rewritten"):
        verify("acme")


# Through the pack page and the worker, and as the application's own database role.


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def download_signed_pack(client: Any) -> bytes:
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    run_worker()
    pack = Pack.objects.filter(signed=True).get()
    return client.get(reverse("pack_download", args=["acme", pack.public_id])).content


@pytest.mark.django_db(transaction=True)
def test_signed_pack_downloaded_twice_and_after_the_day_notes_change_is_byte_identical(
    client, signed_off, facilitator
):
    client.force_login(facilitator)
    first, second = download_signed_pack(client), download_signed_pack(client)
    note = DayNote.objects.get(day_number=2)
    client.post(
        reverse("day_notes", args=["acme", 2]),
        {
            "attendees": "Fay (facilitator)",
            "decisions": "Client waived all cost ceilings",
            "row_version": note.row_version,
        },
    )
    assert DayNote.objects.get(day_number=2).decisions == "Client waived all cost ceilings"
    assert first == second == download_signed_pack(client)


@pytest.fixture
def app_role(transactional_db: Any) -> Any:
    """A login role granted what the application gets (`grant_app_role`), dropped afterwards."""
    name, password = "workshop_app_under_test", secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {name}")
        # A literal: statements other than queries take no bound parameter (the connection
        # binds parameters on the server), and token_urlsafe's characters need no quoting.
        cursor.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        call_command("grant_app_role", name, stdout=io.StringIO())
        connection.ensure_connection()
        info = connection.connection.info
        with psycopg.connect(
            host=info.host,
            port=info.port,
            dbname=connection.settings_dict["NAME"],
            user=name,
            password=password,
            autocommit=True,
        ) as app:
            yield app
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


APP_ROLE_REFUSED = [
    "UPDATE {table} SET id = id",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER USER",
]


def test_the_application_role_cannot_change_truncate_or_unguard_any_evidence_table(app_role):
    allowed = []
    for table in EVIDENCE_TABLES:
        for statement in APP_ROLE_REFUSED:
            try:
                app_role.execute(statement.format(table=table))
                allowed.append(statement.format(table=table))
            except psycopg.errors.InsufficientPrivilege:
                pass
    assert allowed == []


def test_the_application_role_reads_and_adds_evidence_only(app_role):
    privileges = {
        table: {
            privilege
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if app_role.execute(
                "SELECT has_table_privilege(current_user, %s, %s)", [table, privilege]
            ).fetchone()[0]
        }
        for table in EVIDENCE_TABLES
    }
    assert privileges == {table: {"SELECT", "INSERT"} for table in EVIDENCE_TABLES}


def test_verify_register_names_a_sign_off_cut_from_the_end_of_the_register(signed_off):
    # The owner removes the last entry and its record: the rest of the chain still holds.
    as_owner_without_triggers("DELETE FROM workshops_ledgerentry WHERE kind = 'signoff'", [])
    as_owner_without_triggers("DELETE FROM workshops_signoffrecord", [])
    with pytest.raises(
        CommandError, match="sign-off of v1: signed off, but its sign-off record is"
    ):
        verify("acme")


def test_the_clients_kept_pack_reveals_a_sign_off_cut_from_the_end_of_the_register(
    signed_off, tmp_path
):
    kept = tmp_path / "client.pdf"
    kept.write_bytes(export("acme", 1, tmp_path, "client.pdf"))
    as_owner_without_triggers("DELETE FROM workshops_ledgerentry WHERE kind = 'signoff'", [])
    as_owner_without_triggers("DELETE FROM workshops_signoffrecord", [])
    as_owner_without_triggers("DELETE FROM escalation_pack", [])
    output = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_register", "acme", "--pack", str(kept), stdout=output)
    assert "BROKEN: the sign-off record it names is not in this register" in output.getvalue()


def test_the_clients_kept_pack_matches_an_untouched_register(signed_off, tmp_path):
    kept = tmp_path / "client.pdf"
    kept.write_bytes(export("acme", 1, tmp_path, "client.pdf"))
    output = io.StringIO()
    call_command("verify_register", "acme", "--pack", str(kept), stdout=output)
    assert "kept pack the given pack" in output.getvalue()
