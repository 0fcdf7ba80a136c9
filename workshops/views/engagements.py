import datetime
from collections import Counter
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.middleware import SignedInRequest
from escalation.steps import STEPS
from workshops.audit import AuditVerb, record_activity
from workshops.forms import EngagementSettingsForm, NewEngagementForm, StatusForm
from workshops.imports import free_engagement_slug, next_monday
from workshops.links import numbered_url, url_of
from workshops.models import (
    OPEN_ENGAGEMENT,
    Activity,
    Approval,
    Capability,
    Engagement,
    Invitation,
    Member,
    Membership,
    Review,
    ReviewState,
    Role,
    get_engagement_for,
)
from workshops.next_actions import first_actions, next_actions, reviews_in_play
from workshops.people import ABSENT, name_from
from workshops.progress import (
    blocking_problems,
    day_progress,
    engagement_today,
    gather_facts,
    plan_progress,
    where_we_are,
)


@require_GET
def home(request: SignedInRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("engagement")
        .order_by("-engagement__start_date", "engagement__title")
    )
    rows = [
        (m, where_we_are(m.engagement.plan(), engagement_today(m.engagement))) for m in memberships
    ]
    return render(request, "workshops/home.html", {"rows": rows, "waiting": _waiting_for(request)})


def _waiting_for(request: SignedInRequest) -> list[Review]:
    """Versions in review that the user should comment on or approve (one query, of the columns
    the home page prints: not the versions' documents)."""
    already_approved = Approval.objects.filter(
        review=OuterRef("pk"), approver=request.user, decision=Approval.Decision.APPROVED
    )
    return list(
        Review.objects.filter(
            state=ReviewState.IN_REVIEW,
            engagement__memberships__user=request.user,
            engagement__memberships__role__in=[Role.APPROVER, Role.REVIEWER],
        )
        .exclude(Exists(already_approved))
        .select_related("engagement", "version")
        .only(
            "submitted_at",
            "version__number",
            "engagement__slug",
            "engagement__title",
            "engagement__client_organisation",
        )
        .order_by("submitted_at")
    )


@require_http_methods(["GET", "POST"])
def new_engagement(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(OPEN_ENGAGEMENT):
        raise PermissionDenied("Only consultants can open engagements.")
    initial = {"timezone": settings.TIME_ZONE, "start_date": next_monday(), "working_days": 10}
    form = NewEngagementForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        engagement = form.save(commit=False)
        engagement.slug = engagement.slug or free_engagement_slug(engagement.title)
        _say_if_start_moved(request, form)
        source = form.cleaned_data["copy_from"]
        engagement.open_for(request.user, copy_from=source)
        origin = f"copied from {source.slug}" if source else "from the method's defaults"
        record_activity(
            engagement, request.user, AuditVerb.CREATED, f"Created the engagement ({origin})."
        )
        messages.success(request, f"{engagement.title} is ready. You are its facilitator.")
        return redirect("dashboard", engagement.slug)
    status = 422 if form.is_bound else 200
    return render(request, "workshops/engagement_new.html", {"form": form}, status=status)


# The dashboard summarises; its long lists (a next action per version, everyone in the
# engagement) show their first entries, with the count of the rest and a link to the whole list.
DASHBOARD_NEXT_ACTIONS = 5
DASHBOARD_MEMBERS = 8
NEXT_ACTIONS_PAGE_SIZE = 50


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    plan = engagement.plan()
    members = engagement.members()
    reviews = reviews_in_play(engagement, engagement.membership)
    facts = gather_facts(engagement, plan, members, [review.state for review in reviews])
    rows = day_progress(plan, facts)
    actions = next_actions(engagement, engagement.membership, facts.problems, reviews)
    shown_actions = first_actions(actions, DASHBOARD_NEXT_ACTIONS)
    day_url = numbered_url("day", engagement.slug)
    step_url = url_of("step", engagement.slug, "step_key")
    context = {
        "engagement": engagement,
        "rows": [(row, day_url(row.day.number)) for row in rows],
        "progress": plan_progress(rows),
        "facts": facts,
        "steps": [(step, facts.completion.get(step.key, 0), step_url(step.key)) for step in STEPS],
        "activities": _recent_activity(engagement),
        "members": members[:DASHBOARD_MEMBERS],
        "member_count": len(members),
        "more_members": max(len(members) - DASHBOARD_MEMBERS, 0),
        "members_by_role": _count_by_role(members),
        "pending_invitations": Invitation.objects.filter(
            engagement=engagement, accepted_at__isnull=True
        ).count(),
        "next_actions": shown_actions,
        "action_count": len(actions),
        "more_actions": len(actions) - len(shown_actions),
    }
    return render(request, "workshops/dashboard.html", context)


class ActivityLine(NamedTuple):
    created_at: datetime.datetime
    actor_name: str
    summary: str


def _recent_activity(engagement: Engagement) -> list[ActivityLine]:
    """The engagement's twelve latest activities as the dashboard prints them: three values a
    row (its actor's name from their name's columns), not an activity and a user instance."""
    rows = Activity.objects.filter(engagement=engagement).values_list(
        "created_at",
        "summary",
        "actor_id",
        "actor__first_name",
        "actor__last_name",
        "actor__username",
    )[:12]
    return [
        ActivityLine(created_at, name_from(first, last, username) if actor else ABSENT, summary)
        for created_at, summary, actor, first, last, username in rows
    ]


def _count_by_role(members: list[Member]) -> list[str]:
    """How many people hold each role ("2 facilitators", "1 approver"), in the roles' order."""
    counts = Counter(member.role for member in members)
    return [
        f"{counts[role]} {label.lower()}{pluralize(counts[role])}"
        for role, label in Role.choices
        if counts[role]
    ]


@require_GET
def next_actions_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Everything the dashboard's "What you do next" holds, a page at a time."""
    engagement = get_engagement_for(request.user, slug)
    problems = blocking_problems(engagement, engagement.plan())
    actions = next_actions(engagement, engagement.membership, problems)
    page = Paginator(actions, NEXT_ACTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"engagement": engagement, "page": page, "primary": page.number == 1}
    return render(request, "workshops/next_actions.html", context)


@require_http_methods(["GET", "POST"])
def engagement_settings(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = EngagementSettingsForm(request.POST or None, instance=engagement)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: {"before": str(form.initial.get(name)), "after": str(form.cleaned_data[name])}
            for name in form.changed_data
        }
        form.save()
        _say_if_start_moved(request, form)
        record_activity(
            engagement, request.user, AuditVerb.UPDATED, "Changed the settings.", changes=changes
        )
        messages.success(request, "Settings saved.")
        return redirect("dashboard", engagement.slug)
    status = 422 if form.is_bound else 200
    context = {"engagement": engagement, "form": form}
    return render(request, "workshops/engagement_settings.html", context, status=status)


def _say_if_start_moved(request: HttpRequest, form: EngagementSettingsForm) -> None:
    if moved := getattr(form, "moved_start_from", None):
        start = form.cleaned_data["start_date"]
        messages.info(
            request,
            f"{moved:%A %-d %B} is a weekend day: Day 1 moves to Monday {start:%-d %B %Y}, "
            "and the engagement starts on that date.",
        )


@require_POST
def engagement_status(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status to move to.")
        return redirect("dashboard", engagement.slug)
    before = engagement.get_status_display()
    problems = blocking_problems(engagement, engagement.plan())
    try:
        engagement.move_to(form.cleaned_data["status"], blocking_problems=problems)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("dashboard", engagement.slug)
    after = engagement.get_status_display()
    record_activity(
        engagement,
        request.user,
        AuditVerb.STATUS_CHANGED,
        f"Moved the engagement from {before.lower()} to {after.lower()}.",
        changes={"status": {"before": before, "after": after}},
    )
    messages.success(request, f"The engagement is now {after.lower()}.")
    return redirect("dashboard", engagement.slug)


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The liveness probe for docker compose, and the floor `make bench` compares pages with."""
    return HttpResponse("ok", content_type="text/plain")
