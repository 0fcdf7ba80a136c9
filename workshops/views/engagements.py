from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.middleware import SignedInRequest
from escalation.steps import STEPS
from workshops.audit import AuditVerb, record_activity
from workshops.forms import EngagementSettingsForm, NewEngagementForm, StatusForm
from workshops.models import (
    OPEN_ENGAGEMENT,
    Activity,
    Approval,
    Capability,
    Invitation,
    Membership,
    Review,
    ReviewState,
    Role,
    get_engagement_for,
)
from workshops.plan import step_url
from workshops.progress import (
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
    """Versions in review that the user should comment on or approve (one query)."""
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
        .order_by("submitted_at")
    )


@require_http_methods(["GET", "POST"])
def new_engagement(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(OPEN_ENGAGEMENT):
        raise PermissionDenied("Only consultants can open engagements.")
    form = NewEngagementForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        engagement = form.save(commit=False)
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


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    plan = engagement.plan()
    facts = gather_facts(engagement, plan)
    rows = day_progress(plan, facts)
    context = {
        "engagement": engagement,
        "rows": rows,
        "progress": plan_progress(rows),
        "facts": facts,
        "steps": [
            (step, facts.completion.get(step.key, 0), step_url(engagement.slug, step.key))
            for step in STEPS
        ],
        "activities": Activity.objects.filter(engagement=engagement).select_related("actor")[:12],
        "memberships": Membership.objects.filter(engagement=engagement).select_related("user"),
        "pending_invitations": Invitation.objects.filter(
            engagement=engagement, accepted_at__isnull=True
        ).count(),
        "status_form": StatusForm(),
    }
    return render(request, "workshops/dashboard.html", context)


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
        record_activity(
            engagement, request.user, AuditVerb.UPDATED, "Changed the settings.", changes=changes
        )
        messages.success(request, "Settings saved.")
        return redirect("dashboard", engagement.slug)
    status = 422 if form.is_bound else 200
    context = {"engagement": engagement, "form": form}
    return render(request, "workshops/engagement_settings.html", context, status=status)


@require_POST
def engagement_status(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status to move to.")
        return redirect("dashboard", engagement.slug)
    before = engagement.get_status_display()
    problems = gather_facts(engagement, engagement.plan()).problems
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
