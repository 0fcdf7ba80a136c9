"""The demo: loading it twice changes nothing, and its accounts reach only their own engagement."""

from django.urls import reverse

from workshops.demo import DEMO_PASSWORD, load_demo
from workshops.models import Engagement, Membership


def test_demo_load_is_idempotent(db):
    load_demo()
    counts = (Engagement.objects.count(), Membership.objects.count())
    load_demo()
    assert (Engagement.objects.count(), Membership.objects.count()) == counts


def test_demo_outsider_has_no_part_in_the_demo(db, client):
    load_demo()
    client.login(username="outsider", password=DEMO_PASSWORD)
    assert client.get(reverse("dashboard", args=["demo"])).status_code == 404
    assert client.get(reverse("dashboard", args=["pilot"])).status_code == 200


def test_demo_facilitator_reaches_the_demo_engagement(db, client):
    load_demo()
    client.login(username="facilitator", password=DEMO_PASSWORD)
    assert client.get(reverse("dashboard", args=["demo"])).status_code == 200
