"""Query counts do not grow with the engagement's size.

Every page a member can reach takes as many queries with one row of everything as with many:
per-page work follows what the page shows, never the engagement's size.

Two engagements with the same shape (v1 signed off, the latest version in review, a facilitator,
approvers, reviewers, an audit trail, a pending invitation): one with a single item, version,
comment and person of each kind, one with many. Each page is fetched once to warm per-process
caches, then counted on both.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.editors import STEP_EDITORS
from escalation.large_framework import fill_large_framework
from escalation.models import (
    AISystem,
    DriftTrigger,
    EscalationLevel,
    FailureMode,
    FrameworkVersion,
    Pack,
    PackStatus,
    ReviewCadence,
    Threshold,
)
from monitoring.models import ApiToken
from tests.factories import SEEDED, make_consultant, make_engagement, make_member, make_user
from tests.framework_content import fill_small_framework
from workshops.audit import AuditVerb, record_activity
from workshops.models import (
    Approval,
    DayNote,
    Engagement,
    Invitation,
    Review,
    ReviewState,
    Role,
)


def _engagement_of_size(slug: str, size: int) -> tuple[Engagement, Any]:
    """`size` of everything: framework items, versions (v1 signed off, the last in review),
    comment threads with replies, members of each role, audit rows, invitations, API tokens."""
    engagement = make_engagement(slug=slug)
    framework = engagement.framework
    if size == 1:
        fill_small_framework(framework)
        # One cadence too: an empty list shows without a query for its (empty) page of rows.
        ReviewCadence.objects.create(framework=framework, key="monthly", name="Monthly review")
    else:
        fill_large_framework(
            framework, systems=size, failure_modes=size, levels=size, drift_triggers=size
        )
    facilitator = make_consultant(make_member(engagement, Role.FACILITATOR))
    approver = make_member(engagement, Role.APPROVER)
    reviewers = [make_member(engagement, Role.REVIEWER) for _ in range(size)]
    for number in range(size):
        make_member(engagement, Role.OBSERVER)
        record_activity(engagement, facilitator, AuditVerb.NOTED, f"Change {number}", anchor="x/y")
        Invitation.objects.create(engagement=engagement, email=f"p{number}@example.com")
        ApiToken.issue(engagement, f"Exporter {number}", facilitator)
    for number in range(1, size + 2):  # v1 and the version in review, and between them size - 1
        framework.sunset_criteria = f"Revisit after {number} cycles."
        framework.save(update_fields=["sunset_criteria"])
        review = engagement.freeze_version(facilitator, f"Round {number}")
        review.submit(facilitator, notify=False)
        for reviewer in reviewers:
            thread = review.add_comment(reviewer, "Is this the number we agreed?")
            review.add_comment(approver, "Yes, see day 6 notes.", parent=thread)
        if number <= size:
            review.approve(approver, authentication=SEEDED)
    Pack.objects.create(
        framework=framework,
        version=review.version,
        status=PackStatus.READY,
        signed=False,
        request_key=slug,
        pdf=b"%PDF-1.7 a draft pack",
    )
    return engagement, facilitator


def _first_key(model: Any, engagement: Engagement) -> str:
    return model.objects.filter(framework=engagement.framework).order_by("pk").first().key


def _page_urls(engagement: Engagement) -> dict[str, str]:
    slug = engagement.slug
    latest = engagement.framework.versions.order_by("-number").first().number
    step = lambda key, query="": reverse("step", args=[slug, key]) + query  # noqa: E731
    urls = {
        "home": reverse("home"),
        "dashboard": reverse("dashboard", args=[slug]),
        "next actions": reverse("next_actions", args=[slug]),
        "days": reverse("days", args=[slug]),
        "day": reverse("day", args=[slug, 4]),
        "people": reverse("people", args=[slug]),
        "settings": reverse("engagement_settings", args=[slug]),
        "new engagement": reverse("engagement_new"),
        "checks": reverse("checks", args=[slug]),
        "live": reverse("live", args=[slug]),
        "api tokens": reverse("api_tokens", args=[slug]),
        "audit": reverse("audit", args=[slug]),
        "versions list": reverse("versions", args=[slug]),
        "version detail": reverse("version_detail", args=[slug, latest]),
        "compare v1 with the latest": reverse("version_compare", args=[slug]) + f"?a=1&b={latest}",
        "compare v1 with the draft": reverse("version_compare", args=[slug]) + "?a=1&b=draft",
        "step systems, a row open": step(
            "systems", f"?edit=ai-systems:{_first_key(AISystem, engagement)}"
        ),
        "step thresholds, a row open": step(
            "thresholds", f"?edit=thresholds:{_first_key(Threshold, engagement)}"
        ),
        "step failure modes, a row open": step(
            "failure-modes", f"?edit=failure-modes:{_first_key(FailureMode, engagement)}"
        ),
        "step ladder, a row open": step(
            "ladder", f"?edit=levels:{_first_key(EscalationLevel, engagement)}"
        ),
        "step governance, a row open": step(
            "governance", f"?edit=levels:{_first_key(EscalationLevel, engagement)}"
        ),
        "step review cycle, a row open": step(
            "review-cycle", f"?edit=drift-triggers:{_first_key(DriftTrigger, engagement)}"
        ),
    }
    urls |= {f"step {key}": step(key) for key in STEP_EDITORS}
    for prefix, kwargs in (("draft", {"slug": slug}), ("v1", {"slug": slug, "number": 1})):
        name = "" if prefix == "draft" else "version_"
        for artifact in (
            "artifacts",
            "ladder_svg",
            "ladder_png",
            "register_csv",
            "matrix_csv",
            "ladder_csv",
            "review_cycle_ics",
            "document_json",
            "pack",
        ):
            urls[f"{prefix} {artifact}"] = reverse(f"{name}{artifact}", kwargs=kwargs)
    pack = Pack.objects.get(framework=engagement.framework)
    urls["version pack"] = reverse("version_pack", args=[slug, latest])
    urls["pack download"] = reverse("pack_download", args=[slug, pack.public_id])
    return urls


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _counts(client: Any, engagement: Engagement, user: Any) -> dict[str, int]:
    client.force_login(user)
    counts = {}
    for name, url in _page_urls(engagement).items():
        client.get(url)  # per-process caches (content types, the rendered ladder) warm up
        counts[name] = _queries(client, url)
    return counts


@pytest.mark.django_db
def test_every_page_takes_the_same_queries_with_one_or_many_of_everything(client: Any) -> None:
    one = _counts(client, *_engagement_of_size("one-of-each", 1))
    many = _counts(client, *_engagement_of_size("many-of-each", 8))
    grew = {name: (one[name], many[name]) for name in one if one[name] != many[name]}
    assert grew == {}, f"pages whose query count grew (one of each, many of each): {grew}"


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


def test_dashboard_query_count(client, facilitator, engagement, django_assert_num_queries):
    _grow(engagement, 5)
    client.force_login(facilitator)
    url = reverse("dashboard", args=["acme"])
    client.get(url)  # reports on the draft once: its checks are then cached under its revision
    # session, user, membership+engagement+framework with the draft's content revision (the
    # report on it, checks, completion, counts, comes from this process's memory), the members
    # (their names and emails feed the approver-group check, part of the report's key, and the
    # people card: one query for both, was two), day notes, activity and pending invitations;
    # the reviews in play with their open threads, for the next steps and for the plan's
    # version checks, come from this process's memory under the engagement's review revision
    # (read with the membership)
    with django_assert_num_queries(7):
        client.get(url)


def test_day_query_count(client, facilitator, engagement, django_assert_num_queries):
    _grow(engagement, 5)
    client.force_login(facilitator)
    url = reverse("day", args=["acme", 1])
    client.get(url)  # reports on the draft once, as above
    # session, user, membership+engagement+framework with the draft's revision and the review
    # revision (the report, and the states of the reviews in play, from this process's memory),
    # the members' names the approver-group check reads, day notes
    with django_assert_num_queries(5):
        client.get(url)


def test_a_write_to_the_draft_reports_on_it_again(
    client, facilitator, engagement, django_assert_num_queries
):
    _grow(engagement, 5)
    client.force_login(facilitator)
    url = reverse("day", args=["acme", 1])
    client.get(url)
    AISystem.objects.filter(framework=engagement.framework).update(workflow="Triage")
    # as above, plus the framework and its rows (14) for the new revision, and the cache's
    # write of the new report (5: its size, the key, and the insert in a savepoint)
    with django_assert_num_queries(25):
        client.get(url)


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
