"""Backup and restore round-trip the whole database."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from escalation.models import FrameworkRevision, FrameworkVersion
from tests.factories import make_engagement, make_member, make_user
from workshops.demo import load_demo
from workshops.models import Engagement, ReviewRevision, Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_restore_brings_back_what_was_backed_up(tmp_path):
    make_engagement(slug="kept", client_organisation="Kept Ltd")
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    Engagement.objects.filter(slug="kept").update(client_organisation="Changed after backup")
    call_command("restore", str(backup))
    assert Engagement.objects.get(slug="kept").client_organisation == "Kept Ltd"


def test_frozen_versions_keep_their_hashes_through_backup_and_restore(tmp_path):
    load_demo()
    before = dict(FrameworkVersion.objects.values_list("public_id", "sha256"))
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    call_command("restore", str(backup))
    assert dict(FrameworkVersion.objects.values_list("public_id", "sha256")) == before
    output = StringIO()
    call_command("verify_register", "demo", stdout=output)
    assert "All versions of demo match their frozen hashes." in output.getvalue()


def test_frozen_versions_stay_frozen_after_restore(tmp_path):
    load_demo()
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    call_command("restore", str(backup))
    with pytest.raises(IntegrityError):
        FrameworkVersion.objects.update(summary="rewritten after restore")


def test_a_draft_edited_after_the_backup_shows_its_restored_content(tmp_path, client):
    """Content revisions given out after the backup are never given again: a draft's cached
    rendering under such a revision (in any process's memory, in Redis) cannot come back."""
    engagement = make_engagement(slug="kept", client_organisation="Kept Ltd")
    framework = engagement.framework
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    revision_at_backup = FrameworkRevision.of(framework)
    framework.name = "Renamed after the backup"
    framework.save()
    renamed_at = FrameworkRevision.of(framework)
    assert renamed_at > revision_at_backup
    call_command("restore", str(backup))
    framework.refresh_from_db()
    framework.name = "Renamed after the restore"
    framework.save()
    assert FrameworkRevision.of(framework) > renamed_at


def test_review_revisions_given_out_after_the_backup_are_never_given_again(tmp_path):
    """As for content revisions: a version page's cached review under such a revision (in any
    process's memory, in Redis) cannot come back after a restore."""
    engagement = make_engagement(slug="kept", client_organisation="Kept Ltd")
    facilitator = make_member(engagement, Role.FACILITATOR, make_user("fay"))
    review = engagement.freeze_version(facilitator, "First cut")
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    review.add_comment(facilitator, "Written after the backup")
    commented_at = ReviewRevision.of(engagement)
    call_command("restore", str(backup))
    engagement = Engagement.objects.get(slug="kept")
    engagement.reviews.get().add_comment(facilitator, "Written after the restore")
    assert ReviewRevision.of(engagement) > commented_at


def test_client_programs_get_the_password_by_environment_not_on_the_command_line():
    from config.database import libpq_environment, libpq_url

    database = {"USER": "workshop", "PASSWORD": "s3cret/pass", "HOST": "db", "PORT": "5432"}
    database["NAME"] = "workshop"
    assert libpq_url(database) == "postgresql://workshop@db:5432/workshop"
    assert libpq_environment(database)["PGPASSWORD"] == "s3cret/pass"
