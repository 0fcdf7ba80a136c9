"""The large engagement `make bench` measures, and the pages it visits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML

from escalation.diagram import diagram_sha256, ladder_dot, render_ladder
from escalation.document import build_document, document_sha256
from escalation.large_framework import fill_large_framework
from escalation.models import (
    AISystem,
    DiagramRender,
    DriftTrigger,
    EscalationLevel,
    FailureMode,
    Framework,
    FrameworkVersion,
    Threshold,
)
from escalation.pdf import (
    SignOff,
    StaticOnlyFetcher,
    build_pack,
    pack_html,
    static_roots,
)
from escalation.signing import sign_pdf
from escalation.steps import STEPS
from workshops.audit import AuditVerb
from workshops.models import (
    Activity,
    Approval,
    Comment,
    DayNote,
    Engagement,
    EngagementStatus,
    Membership,
    RequiredApprover,
    Review,
    ReviewState,
    Role,
    SignoffRule,
    open_engagement_permission,
)
from workshops.models.evidence import LedgerEntry, approval_payload, version_payload
from workshops.packs import artifact_source, pack_context, record_signoff
from workshops.people import display_name
from workshops.stepup import Authentication

BENCH_SLUG = "bench-large"


@dataclass(frozen=True)
class EngagementSize:
    systems: int
    outputs_per_system: int  # one threshold each
    levels: int
    failure_modes: int
    members: int
    versions: int  # all signed off but the last, which is in review; all but one superseded
    threads_per_version: int  # each with one reply
    audit_rows: int


# The largest engagement seen so far, and ten times it (what `make bench` measures).
TODAYS_LARGEST = EngagementSize(40, 3, 12, 30, 60, 25, 15, 2_000)
TENFOLD = EngagementSize(400, 1, 80, 80, 100, 250, 25, 20_000)


@transaction.atomic  # one whole bench engagement or none
def seed_large_engagement(size: EngagementSize = TENFOLD) -> Any:
    """The bench engagement, in bulk inserts (seconds, not the minutes the real verbs take)."""
    User = get_user_model()
    framework = Framework.objects.create(name="Bench framework")
    engagement = Engagement.objects.create(
        slug=BENCH_SLUG,
        client_organisation="Bench Corp",
        title="Large engagement",
        start_date="2026-11-02",
        framework=framework,
        signoff_rule=SignoffRule.NAMED_APPROVERS,
    )
    fill_large_framework(
        framework,
        systems=size.systems,
        outputs_per_system=size.outputs_per_system,
        failure_modes=size.failure_modes,
        levels=size.levels,
        drift_triggers=size.systems,
    )
    users = User.objects.bulk_create(
        User(username=f"{BENCH_SLUG}-{role}-{number}", first_name=f"{role.title()} {number}")
        for number in range(size.members // 4)
        for role in (Role.FACILITATOR, Role.APPROVER, Role.REVIEWER, Role.OBSERVER)
    )
    Membership.objects.bulk_create(
        Membership(engagement=engagement, user=user, role=user.username.split("-")[2])
        for user in users
    )
    facilitator, approver, reviewer = users[0], users[1], users[2]
    Membership.objects.filter(engagement=engagement, user=approver).update(signoff_required=True)
    facilitator.user_permissions.add(open_engagement_permission())  # a consultant, as in the demo
    _seed_days_and_activity(engagement, facilitator, size)
    _seed_versions(engagement, approver, reviewer, size)
    return facilitator


def _seed_days_and_activity(engagement: Engagement, facilitator: Any, size: EngagementSize) -> None:
    """Notes on every day and a long audit trail (workshops)."""
    DayNote.objects.bulk_create(
        DayNote(
            engagement=engagement,
            day_number=day,
            attendees="\n".join(f"Person {n}" for n in range(12)),
            decisions="\n".join(f"Decision {n}" for n in range(20)),
        )
        for day in range(1, engagement.working_days + 1)
    )
    Activity.objects.bulk_create(
        Activity(
            engagement=engagement,
            actor=facilitator,
            verb=AuditVerb.NOTED,
            summary=f"Change {n}",
            anchor=f"thresholds/system-{n % size.systems:03d}-output-0",
        )
        for n in range(size.audit_rows)
    )


def _seed_versions(
    engagement: Engagement, approver: Any, reviewer: Any, size: EngagementSize
) -> None:
    """Versions that differ by one field, each signed off but the last (in review), each
    sign-off superseding the reviews before it, each version with its discussion: the
    versions, version, compare and audit pages are measured on these."""
    document = build_document(engagement.framework)
    documents = []
    for number in range(1, size.versions + 1):
        cycle = {**document["review_cycle"], "sunset_criteria": f"After {number} cycles."}
        documents.append({**document, "review_cycle": cycle})
    versions = FrameworkVersion.objects.bulk_create(
        FrameworkVersion(
            framework=engagement.framework,
            number=number,
            document=frozen_document,
            sha256=document_sha256(frozen_document),
            summary=f"Round {number}",
            created_by_name="Bench facilitator",
        )
        for number, frozen_document in enumerate(documents, start=1)
    )
    now = timezone.now()
    # As the app leaves them: each sign-off superseded the reviews before it, so the last but
    # one is the version signed off, every earlier one superseded, and the last is in review.
    states = [ReviewState.SUPERSEDED] * (len(versions) - 2)
    states += [ReviewState.APPROVED, ReviewState.IN_REVIEW]
    reviews = Review.objects.bulk_create(
        Review(
            version=version,
            engagement=engagement,
            state=state,
            submitted_at=now,
            signed_off_at=None if state == ReviewState.IN_REVIEW else now,
            signoff_rule=SignoffRule.NAMED_APPROVERS,
        )
        for version, state in zip(versions, states, strict=True)
    )
    # Each review's terms, as submit() records them: the one named approver, who signed off
    # every version but the last.
    RequiredApprover.objects.bulk_create(
        RequiredApprover(
            review=review,
            submitted_at=now,
            user=approver,
            name=display_name(approver),
            email=approver.email,
            role=Role.APPROVER,
        )
        for review in reviews
    )
    seeded = Authentication.seeded()
    approvals = Approval.objects.bulk_create(
        Approval(
            review=review,
            approver=approver,
            approver_name=display_name(approver),
            approver_email=approver.email,
            approver_role=Role.APPROVER,
            decision=Approval.Decision.APPROVED,
            sha256=review.version.sha256,
            authenticated_via=seeded.via,
            authenticated_at=seeded.at,
        )
        for review in reviews[:-1]
    )
    threads = Comment.objects.bulk_create(
        Comment(review=review, author=reviewer, body=f"Is threshold {n} the number we agreed?")
        for review in reviews
        for n in range(size.threads_per_version)
    )
    Comment.objects.bulk_create(
        Comment(review=thread.review, author=approver, parent=thread, body="Yes, see day 6 notes.")
        for thread in threads
    )
    _seed_register(engagement, versions, reviews, approvals)
    engagement.status = EngagementStatus.IN_REVIEW
    engagement.save(update_fields=["status"])


def _seed_register(
    engagement: Engagement,
    versions: list[FrameworkVersion],
    reviews: list[Review],
    approvals: list[Approval],
) -> None:
    """The evidence register the real verbs would have written beside the bulk-inserted rows:
    each version, its approval and its sign-off record chained in order, as `verify_register`
    expects them."""
    approval_of = {approval.review.pk: approval for approval in approvals}
    for version, review in zip(versions, reviews, strict=True):
        LedgerEntry.objects.append(
            engagement, LedgerEntry.Kind.VERSION, version.pk, version_payload(version)
        )
        if (approval := approval_of.get(review.pk)) is not None:
            LedgerEntry.objects.append(
                engagement, LedgerEntry.Kind.APPROVAL, approval.pk, approval_payload(approval)
            )
            record_signoff(review)


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


# Two trivial pages, each fetched before every page measured: `/healthz`, a view that touches
# nothing, and the login page, a page through the whole stack (session, CSRF, a template) that does
# no work of its own: the floor.
FLOORS = ("floor: /healthz", "floor: the login page")


def pages_to_measure(slug: str) -> list[tuple[str, str]]:
    """Every page a facilitator can reach in engagement `slug` (a row open in each editor, the
    latest version and its artifacts), after the two floors (FLOORS)."""
    engagement = Engagement.objects.select_related("framework").get(slug=slug)
    framework = engagement.framework
    latest = framework.versions.order_by("-number").values_list("number", flat=True).first()
    editors: list[tuple[str, str, Any]] = [
        ("systems", "ai-systems", AISystem),
        ("thresholds", "thresholds", Threshold),
    ]
    editors += [
        ("failure-modes", "failure-modes", FailureMode),
        ("ladder", "levels", EscalationLevel),
    ]
    editors += [("review-cycle", "drift-triggers", DriftTrigger)]
    pages = [
        (FLOORS[0], reverse("healthz")),
        (FLOORS[1], reverse("login")),
        ("home", reverse("home")),
        ("dashboard", reverse("dashboard", args=[slug])),
        ("next actions", reverse("next_actions", args=[slug])),
        ("days", reverse("days", args=[slug])),
        ("day 4", reverse("day", args=[slug, 4])),
        ("people", reverse("people", args=[slug])),
        ("settings", reverse("engagement_settings", args=[slug])),
        ("new engagement", reverse("engagement_new")),
        ("import", reverse("import_framework")),
        ("audit trail", reverse("audit", args=[slug])),
        ("audit trail, filtered", reverse("audit", args=[slug]) + "?verb=noted"),
        ("checks", reverse("checks", args=[slug])),
        *[(f"step: {step.key}", reverse("step", args=[slug, step.key])) for step in STEPS],
    ]
    for step_key, collection, model in editors:
        key = model.objects.filter(framework=framework).values_list("key", flat=True).first()
        url = reverse("step", args=[slug, step_key]) + f"?edit={collection}:{key}"
        pages.append((f"step: {step_key}, a row open", url))
    pages += [
        ("artifacts (working draft)", reverse("artifacts", args=[slug])),
        ("pack page (working draft)", reverse("pack", args=[slug])),
        ("register.csv (working draft)", reverse("register_csv", args=[slug])),
        ("framework.json (working draft)", reverse("framework_json", args=[slug])),
        ("live framework", reverse("live", args=[slug])),
        ("API tokens", reverse("api_tokens", args=[slug])),
    ]
    if latest is None:
        return pages
    pages += [
        ("versions list", reverse("versions", args=[slug])),
        (f"version page (v{latest})", reverse("version_detail", args=[slug, latest])),
        (
            f"compare v1 with v{latest}",
            reverse("version_compare", args=[slug]) + f"?a=1&b={latest}",
        ),
        (
            f"compare v{latest} with the draft",
            reverse("version_compare", args=[slug]) + f"?a={latest}&b=draft",
        ),
    ]
    version_pages = ["artifacts", "pack", "ladder_svg", "ladder_png", "register_csv"]
    version_pages += ["matrix_csv", "ladder_csv", "review_cycle_ics", "document_json"]
    for name in version_pages:
        url = reverse(f"version_{name}", args=[slug, latest])
        pages.append((f"v{latest} {name.replace('_', ' ')}", url))
    return pages


# The pack's parts as artifact_measurements names them, for pack_ratio.
PACK_HTML = "pack: HTML build"
PACK_LAYOUT = "pack: WeasyPrint layout alone"
PACK_SIGNING = "pack: signing"
PACK_WHOLE = "pack pdf, signed (the whole pipeline)"


def artifact_measurements(slug: str) -> list[tuple[str, Callable[[], object], int]]:
    """The ladder drawn cold and from the cache, and the pack's parts: its HTML, WeasyPrint's
    layout of it, signing, and the whole signed pack (`build_pack`, what the task runs)."""
    engagement = Engagement.objects.get(slug=slug)
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

    html = pack_html(document, signed)
    laid_out: list[bytes] = []

    def weasyprint_layout() -> None:
        base_url = static_roots()[0].as_uri() + "/"
        fetcher = StaticOnlyFetcher()
        laid_out[:] = [HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()]

    # A pack of the ten-times engagement takes most of a minute of layout: its parts run once
    # each, the whole pipeline last (a second layout in one process runs a little slower: the
    # ratio errs against the pipeline).
    return [
        ("diagram svg, cold (dot runs)", draw_cold, 10),
        ("diagram svg, cached", lambda: render_ladder(document), 10),
        (PACK_HTML, lambda: pack_html(document, signed), 1),
        (PACK_LAYOUT, weasyprint_layout, 1),
        (PACK_SIGNING, lambda: sign_pdf(laid_out[0], reason=signed.signature_reason), 3),
        (PACK_WHOLE, lambda: build_pack(document, signed), 1),
    ]


def pack_ratio(cpu_ms: dict[str, float]) -> str:
    """The signed pack against WeasyPrint alone on the same HTML, in CPU time (this process's:
    the pipeline's work is all in it), with the parts it adds up from."""
    html, layout, signing, whole = (
        cpu_ms[PACK_HTML],
        cpu_ms[PACK_LAYOUT],
        cpu_ms[PACK_SIGNING],
        cpu_ms[PACK_WHOLE],
    )
    return (
        f"signed pack ÷ WeasyPrint alone: {whole / layout:.2f}× in CPU time "
        f"(whole {whole / 1000:.2f} s; HTML {html / 1000:.2f} s + layout {layout / 1000:.2f} s "
        f"+ signing {signing / 1000:.2f} s = {(html + layout + signing) / 1000:.2f} s)"
    )
