"""Frozen versions: numbered, hashed, and untouchable even by raw SQL."""

import json
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from escalation.document import build_document, document_sha256, export_text
from escalation.models import AISystem, EscalationLevel, Framework, FrameworkVersion
from escalation.versions import NothingToFreezeError, freeze_version
from tests.factories import make_engagement, make_member
from tests.framework_content import fill_small_framework, make_framework
from workshops.models import Role


@pytest.fixture
def framework(db):
    framework = make_framework(name="Acme framework")
    fill_small_framework(framework)
    return framework


def test_versions_are_numbered_from_one(framework):
    first = freeze_version(framework, "First cut", "Fay")
    AISystem.objects.filter(framework=framework).update(vendor="OpenAI")
    second = freeze_version(framework, "Vendor named", "Fay")
    assert (first.number, second.number) == (1, 2)


def test_a_version_stores_the_document_and_its_hash(framework):
    version = freeze_version(framework, "First cut", "Fay")
    assert version.document == build_document(framework)
    assert version.sha256 == document_sha256(build_document(framework))


def test_freezing_an_unchanged_draft_is_refused(framework):
    freeze_version(framework, "First cut", "Fay")
    with pytest.raises(NothingToFreezeError, match="Nothing changed since v1"):
        freeze_version(framework, "Again", "Fay")


def _frozen(framework):
    return freeze_version(framework, "First cut", "Fay")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE escalation_frameworkversion SET summary = 'rewritten' WHERE id = %s",
        "UPDATE escalation_frameworkversion SET document = '{}'::jsonb WHERE id = %s",
        "UPDATE escalation_frameworkversion SET sha256 = repeat('0', 64) WHERE id = %s",
        "UPDATE escalation_frameworkversion SET number = 7 WHERE id = %s",
        "UPDATE escalation_frameworkversion SET created_at = now() WHERE id = %s",
        "DELETE FROM escalation_frameworkversion WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_frozen_version(framework, statement):
    version = _frozen(framework)
    with (
        pytest.raises(IntegrityError, match="is frozen"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [version.pk])
    assert FrameworkVersion.objects.get(pk=version.pk).document == version.document


def test_the_orm_cannot_delete_or_resave_a_frozen_version(framework):
    version = _frozen(framework)
    version.summary = "rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        version.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        FrameworkVersion.objects.filter(pk=version.pk).delete()
    assert FrameworkVersion.objects.get(pk=version.pk).summary == "First cut"


def test_the_hash_survives_export_and_import(framework):
    version = _frozen(framework)
    reimported = json.loads(export_text(version.document))
    assert document_sha256(reimported) == version.sha256
    assert document_sha256(FrameworkVersion.objects.get(pk=version.pk).document) == version.sha256


@pytest.mark.parametrize(
    "change",
    [
        lambda f: EscalationLevel.objects.filter(framework=f, key="fine-tuning").update(
            cost_ceiling=Decimal("40000.01")
        ),
        lambda f: EscalationLevel.objects.filter(framework=f, key="fine-tuning").update(
            name="Fine-tuning (LoRA)"
        ),
        lambda f: AISystem.objects.filter(framework=f).update(output_types=["summary", "chat"]),
        lambda f: Framework.objects.filter(pk=f.pk).update(sunset_criteria="After 2 years"),
        lambda f: (
            EscalationLevel.objects.filter(framework=f, key="prompt-optimization")
            .first()
            .trigger_thresholds.clear()
        ),
    ],
    ids=["cost-cent", "rename", "list-item", "review-cycle", "relation"],
)
def test_the_hash_changes_with_any_change_of_content(framework, change):
    before = document_sha256(build_document(framework))
    change(framework)
    framework.refresh_from_db()
    assert document_sha256(build_document(framework)) != before


def test_verify_register_reports_every_version_ok(framework, capsys):
    engagement = make_engagement(slug="verified", framework=framework)
    engagement.freeze_version(make_member(engagement, Role.FACILITATOR), "First cut")
    call_command("verify_register", engagement.slug)
    assert "All versions of verified match" in capsys.readouterr().out


def test_verify_register_fails_on_a_tampered_version(framework):
    engagement = make_engagement(slug="tampered", framework=framework)
    version = engagement.freeze_version(
        make_member(engagement, Role.FACILITATOR), "First cut"
    ).version
    # Only DDL by the table's owner gets past the trigger: the tampering verify_register exists for.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE wants no pending checks
        cursor.execute(
            "ALTER TABLE escalation_frameworkversion DISABLE TRIGGER frameworkversion_frozen"
        )
        cursor.execute(
            "UPDATE escalation_frameworkversion SET document = jsonb_set(document, '{name}', "
            "'\"Forged\"') WHERE id = %s",
            [version.pk],
        )
        cursor.execute(
            "ALTER TABLE escalation_frameworkversion ENABLE TRIGGER frameworkversion_frozen"
        )
    with pytest.raises(CommandError, match="first broken: v1: its document hashes to"):
        call_command("verify_register", engagement.slug)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_freezes_take_consecutive_numbers():
    framework = make_framework(name="Race framework")
    fill_small_framework(framework)
    start = threading.Barrier(2)
    numbers, errors = [], []

    def freeze(summary):
        try:
            start.wait()
            AISystem.objects.filter(framework=framework).update(vendor=summary)
            numbers.append(freeze_version(framework, summary, "Fay").number)
        except Exception as error:  # the assertion below shows it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=freeze, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] or all(isinstance(e, NothingToFreezeError) for e in errors)
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
