"""Backup and restore round-trip the whole database."""

import pytest
from django.core.management import call_command

from tests.factories import make_engagement
from workshops.models import Engagement

pytestmark = pytest.mark.django_db(transaction=True)


def test_restore_brings_back_what_was_backed_up(tmp_path):
    make_engagement(slug="kept", client_organisation="Kept Ltd")
    backup = tmp_path / "workshop.dump"
    call_command("backup", str(backup))
    Engagement.objects.filter(slug="kept").update(client_organisation="Changed after backup")
    call_command("restore", str(backup))
    assert Engagement.objects.get(slug="kept").client_organisation == "Kept Ltd"
