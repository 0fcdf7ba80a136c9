"""Staff see every engagement in the admin."""

import pytest
from django.urls import reverse

from tests.factories import make_user


@pytest.mark.parametrize(
    "model", ["engagement", "membership", "invitation", "daynote", "activity", "review"]
)
def test_staff_open_each_workshops_list_in_the_admin(client, facilitator, outsider, model):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    assert client.get(reverse(f"admin:workshops_{model}_changelist")).status_code == 200


def test_admin_lists_every_engagement(client, facilitator, outsider):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:workshops_engagement_changelist")).content.decode()
    assert "Acme Insurance" in html and "Elsewhere Ltd" in html
