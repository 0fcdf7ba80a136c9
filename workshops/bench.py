"""The large engagement `make bench` measures, and the pages it visits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse

from escalation.diagram import diagram_sha256, ladder_dot, render_ladder
from escalation.large_framework import fill_large_framework
from escalation.models import DiagramRender, Framework
from escalation.pdf import SignOff, build_pack
from escalation.steps import STEPS
from workshops.audit import AuditVerb
from workshops.models import Activity, DayNote, Engagement, Membership, Role
from workshops.packs import artifact_source, pack_context
from workshops.stepup import Authentication

BENCH_SLUG = "bench-large"
BENCH_MEMBERS = 60
BENCH_VERSIONS = 25  # each signed off, then changed; the last one stays in review
BENCH_THREADS_PER_VERSION = 10  # each with two replies


@transaction.atomic
def seed_large_engagement() -> Any:
    """An engagement with many people (and, as features land, a large framework)."""
    User = get_user_model()
    framework = Framework.objects.create(name="Bench framework")
    engagement = Engagement.objects.create(
        slug=BENCH_SLUG,
        client_organisation="Bench Corp",
        title="Large engagement",
        start_date="2026-11-02",
        framework=framework,
    )
    fill_large_framework(framework)
    facilitator = User.objects.create_user(username=f"{BENCH_SLUG}-facilitator")
    Membership.objects.create(engagement=engagement, user=facilitator, role=Role.FACILITATOR)
    for number in range(BENCH_MEMBERS):
        user = User.objects.create_user(username=f"{BENCH_SLUG}-member-{number}")
        Membership.objects.create(engagement=engagement, user=user, role=Role.REVIEWER)
    _seed_days_and_activity(engagement, facilitator)
    seed_versions(engagement, facilitator, user)
    return facilitator


def _seed_days_and_activity(engagement: Engagement, facilitator: Any) -> None:
    """Notes on every day, a long audit trail and the method's default content (workshops)."""
    for day in range(1, engagement.working_days + 1):
        DayNote.objects.create(
            engagement=engagement,
            day_number=day,
            attendees="\n".join(f"Person {n}" for n in range(12)),
            decisions="\n".join(f"Decision {n}" for n in range(20)),
        )
    Activity.objects.bulk_create(
        Activity(
            engagement=engagement, actor=facilitator, verb=AuditVerb.NOTED, summary=f"Change {n}"
        )
        for n in range(2000)
    )


def seed_versions(engagement: Engagement, facilitator: Any, reviewer: Any) -> None:
    """Many versions with discussions: what the versions, review and audit pages are measured on."""
    approver = get_user_model().objects.create_user(username=f"{BENCH_SLUG}-approver")
    Membership.objects.create(engagement=engagement, user=approver, role=Role.APPROVER)
    framework = engagement.framework
    for number in range(1, BENCH_VERSIONS + 1):
        # Whatever content the bench framework has, this field makes each version differ.
        framework.sunset_criteria = f"Revisit after {number} review cycles without a breach."
        framework.save(update_fields=["sunset_criteria"])
        review = engagement.freeze_version(facilitator, f"Round {number}")
        review.submit(facilitator, notify=False)
        for _ in range(BENCH_THREADS_PER_VERSION):
            thread = review.add_comment(reviewer, "Is this the number we agreed?")
            review.add_comment(approver, "Yes, see day 6 notes.", parent=thread)
            review.add_comment(reviewer, "Thanks.", parent=thread)
        if number < BENCH_VERSIONS:
            review.approve(approver, authentication=Authentication.seeded())


def remove_large_engagement() -> None:
    engagement = Engagement.objects.filter(slug=BENCH_SLUG).first()
    if engagement:
        framework = engagement.framework
        with _evidence_triggers_disabled():
            # Model.delete refuses an engagement with evidence; the bench's is throwaway.
            Engagement.objects.filter(pk=engagement.pk).delete()
            framework.versions.all().delete()
        framework.delete()
    get_user_model().objects.filter(username__startswith=f"{BENCH_SLUG}-").delete()


# Every table whose triggers keep evidence (escalation 0002/0005, workshops 0009).
EVIDENCE_TABLES = [
    "escalation_frameworkversion",
    "escalation_pack",
    "workshops_engagement",
    "workshops_approval",
    "workshops_requiredapprover",
    "workshops_reviewevent",
    "workshops_comment",
    "workshops_commentresolution",
    "workshops_activity",
    "workshops_signoffrecord",
    "workshops_ledgerentry",
]


@contextmanager
def _evidence_triggers_disabled() -> Iterator[None]:
    """The bench's throwaway evidence is the one deletion we allow: the triggers that refuse it
    are switched off by DDL (only the tables' owner may), for this transaction only."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE wants no pending checks
        for table in EVIDENCE_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in EVIDENCE_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def pages_to_measure() -> list[tuple[str, str]]:
    return [
        ("floor: /healthz (trivial view)", reverse("healthz")),
        ("home", reverse("home")),
        ("dashboard", reverse("dashboard", args=[BENCH_SLUG])),
        ("days", reverse("days", args=[BENCH_SLUG])),
        ("day 4", reverse("day", args=[BENCH_SLUG, 4])),
        ("people", reverse("people", args=[BENCH_SLUG])),
        ("settings", reverse("engagement_settings", args=[BENCH_SLUG])),
        ("new engagement", reverse("engagement_new")),
        ("versions list", reverse("versions", args=[BENCH_SLUG])),
        ("version page (in review)", reverse("version_detail", args=[BENCH_SLUG, BENCH_VERSIONS])),
        (
            "compare v1 with the draft",
            reverse("version_compare", args=[BENCH_SLUG]) + "?a=1&b=draft",
        ),
        ("audit trail", reverse("audit", args=[BENCH_SLUG])),
        *[(f"step: {step.key}", reverse("step", args=[BENCH_SLUG, step.key])) for step in STEPS],
        ("checks", reverse("checks", args=[BENCH_SLUG])),
        ("framework.json", reverse("framework_json", args=[BENCH_SLUG])),
        ("artifacts (working draft)", reverse("artifacts", args=[BENCH_SLUG])),
        ("pack page (working draft)", reverse("pack", args=[BENCH_SLUG])),
    ]


def artifact_measurements() -> list[tuple[str, Callable[[], object], int]]:
    """The ladder drawn cold and from the cache, and the pack rendered as draft and signed."""
    engagement = Engagement.objects.get(slug=BENCH_SLUG)
    source = artifact_source(engagement, None)
    document = source.document
    draft = pack_context(source)
    signed = dataclasses.replace(
        draft,
        signed_off=True,
        status="Signed off",
        approvals=[
            SignOff(f"Approver {n}", "Approver", draft.generated_at, draft.version_sha256)
            for n in range(5)
        ],
    )
    dot = ladder_dot(document)

    def draw_cold() -> bytes:
        DiagramRender.objects.filter(sha256=diagram_sha256(dot, "svg")).delete()
        return render_ladder(document)

    return [
        ("diagram svg, cold (dot runs)", draw_cold, 30),
        ("diagram svg, cached", lambda: render_ladder(document), 30),
        ("pack pdf, draft (render)", lambda: build_pack(document, draft), 3),
        ("pack pdf, signed (render + sign)", lambda: build_pack(document, signed), 3),
    ]
