"""Query counts of the dashboard, home and day pages do not grow with the engagement's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.models import AISystem, EscalationLevel, FailureMode, FrameworkVersion, Threshold
from tests.factories import SEEDED, make_engagement, make_member, make_user
from workshops.audit import record_activity
from workshops.models import Approval, DayNote, Review, ReviewState, Role


def _grow(engagement, size):
    """Give `engagement` `size` more of everything its pages list or count."""
    framework = engagement.framework
    start = AISystem.objects.filter(framework=framework).count()
    for number in range(start, start + size):
        make_member(engagement, Role.REVIEWER)
        record_activity(engagement, None, "noted", f"Activity {number}")
        system = AISystem.objects.create(
            framework=framework,
            key=f"system-{number}",
            name=f"System {number}",
            model_name="m",
            workflow="w",
        )
        Threshold.objects.create(
            framework=framework,
            key=f"threshold-{number}",
            ai_system=system,
        )
        level = EscalationLevel.objects.create(
            framework=framework, key=f"level-{number}", name=f"Level {number}", position=number
        )
        FailureMode.objects.create(
            framework=framework,
            key=f"mode-{number}",
            name=f"Mode {number}",
            recommended_level=level,
        )
    for day in range(1, 11):
        DayNote.objects.update_or_create(
            engagement=engagement, day_number=day, defaults={"attendees": "A", "decisions": "D"}
        )


def _waiting_reviews(user, count):
    """`count` engagements where `user` approves a version that is in review."""
    for _ in range(count):
        engagement = make_engagement()
        make_member(engagement, Role.APPROVER, user)
        version = FrameworkVersion.objects.create(
            framework=engagement.framework, number=1, document={}, sha256="0" * 64
        )
        Review.objects.create(version=version, engagement=engagement, state=ReviewState.IN_REVIEW)


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        reverse("dashboard", args=["acme"]),
        reverse("day", args=["acme", 1]),
        reverse("days", args=["acme"]),
    ],
)
def test_engagement_pages_take_the_same_queries_small_or_large(
    client, facilitator, engagement, url
):
    client.force_login(facilitator)
    _grow(engagement, 1)
    small = _queries(client, url)
    _grow(engagement, 25)
    assert _queries(client, url) == small


def test_dashboard_query_count(client, facilitator, engagement, django_assert_num_queries):
    _grow(engagement, 5)
    client.force_login(facilitator)
    # session, user, membership+engagement+framework, the framework's rows (systems, thresholds,
    # bounds, levels and their bounds, failure modes, drift and external triggers: 8; the
    # bounds' levels would be a ninth, but this framework has no bounds), versions, day notes,
    # activity, memberships, pending invitations, and for the next steps the reviews with their
    # open threads and the user's approvals
    with django_assert_num_queries(18):
        client.get(reverse("dashboard", args=["acme"]))


def test_day_query_count(client, facilitator, engagement, django_assert_num_queries):
    _grow(engagement, 5)
    client.force_login(facilitator)
    # session, user, membership+engagement+framework, the framework's rows (8, no bounds),
    # versions, day notes
    with django_assert_num_queries(13):
        client.get(reverse("day", args=["acme", 1]))


def test_home_takes_the_same_queries_with_one_or_many_engagements(client, db):
    user = make_user()
    _waiting_reviews(user, 1)
    client.force_login(user)
    small = _queries(client, reverse("home"))
    _waiting_reviews(user, 15)
    assert _queries(client, reverse("home")) == small


def test_home_lists_versions_waiting_for_my_review(client, db):
    user = make_user()
    _waiting_reviews(user, 2)
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert html.count("version v1 is in review") == 2


def test_reviewers_see_versions_waiting_for_comments(client, reviewer, engagement):
    version = FrameworkVersion.objects.create(
        framework=engagement.framework, number=1, document={}, sha256="0" * 64
    )
    Review.objects.create(version=version, engagement=engagement, state=ReviewState.IN_REVIEW)
    client.force_login(reviewer)
    assert "version v1 is in review" in client.get(reverse("home")).content.decode()


def test_observers_have_nothing_waiting(client, observer, engagement):
    version = FrameworkVersion.objects.create(
        framework=engagement.framework, number=1, document={}, sha256="0" * 64
    )
    Review.objects.create(version=version, engagement=engagement, state=ReviewState.IN_REVIEW)
    client.force_login(observer)
    assert "Waiting for you" not in client.get(reverse("home")).content.decode()


def test_an_approval_already_given_no_longer_waits(client, approver, engagement):
    version = FrameworkVersion.objects.create(
        framework=engagement.framework, number=1, document={}, sha256="0" * 64
    )
    review = Review.objects.create(
        version=version, engagement=engagement, state=ReviewState.IN_REVIEW
    )
    Approval.objects.create(
        review=review,
        approver=approver,
        decision=Approval.Decision.APPROVED,
        sha256="0" * 64,
        authenticated_via=SEEDED.via,
        authenticated_at=SEEDED.at,
    )
    client.force_login(approver)
    assert "Waiting for you" not in client.get(reverse("home")).content.decode()
