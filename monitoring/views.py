"""The live pages (members) and the metric API (a bearer token of the engagement).

The API views are the only CSRF-exempt views: they take no cookie, only `Authorization: Bearer`,
so a forged cross-site request has nothing to ride on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.middleware import SignedInRequest
from escalation import caching
from escalation.document import upgrade_document
from escalation.forms import CachedOption
from escalation.models import ExternalEvent, FrameworkVersion
from monitoring import cases
from monitoring.forms import (
    ApiTokenForm,
    CaseApproveForm,
    CaseDecisionForm,
    ExternalEventForm,
    PointsUploadForm,
)
from monitoring.intake import (
    Catalogue,
    ReadPoints,
    UnreadableBody,
    check,
    read_csv,
    read_json,
    store,
)
from monitoring.live import (
    live_rules,
    live_system_options,
    live_systems,
    series_panel,
    system_panels,
    system_panels_html,
    window_table_html,
)
from monitoring.models import ApiToken, CaseStatus, EscalationCase
from monitoring.otlp import read_otlp
from monitoring.results import evaluate_all, in_force, version_in_force
from workshops.audit import AuditVerb, record_activity
from workshops.links import url_of
from workshops.models import Capability, Engagement, get_engagement_for
from workshops.stepup import Authentication

# AI systems shown on one page of the live page, each with its bounds' and triggers' charts.
LIVE_SYSTEMS_PAGE = 5


@dataclass(frozen=True)
class CaseInPlay:
    case: EscalationCase
    url: str  # its page
    system_name: str
    page: int  # of the live page, where its system is


def _live_context(
    engagement: Engagement,
    page_number: Any = None,
    event_form: ExternalEventForm | None = None,
    upload_form: PointsUploadForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The live page's context; `event_form` and `upload_form`: a form refused, shown with its
    errors."""
    state = in_force(engagement)
    version = state.version
    systems = live_systems(version) if version is not None else []
    page = Paginator(systems, LIVE_SYSTEMS_PAGE).get_page(page_number)
    in_play = cases.cases_by_system(engagement) if state.has_cases_in_play else {}
    case_url = url_of("case_detail", engagement.slug, "case_id", placeholder=uuid.UUID(int=0))
    panels = []
    if version is not None:
        rules = live_rules(version, [key for key, _ in page.object_list])
        panels = system_panels(
            engagement,
            version,
            rules,
            in_play,
            evaluated=state.evaluated,
            has_decided_levels=state.has_decided_levels,
        )
    can_edit = engagement.membership.can(Capability.EDIT)
    context = {
        "engagement": engagement,
        "version": version,
        "evaluated": state.evaluated,
        "has_points": state.has_points,
        "panels": panels,
        "panels_html": system_panels_html(panels, case_url),
        "page": page,
        "cases_in_play": _cases_in_play(systems, in_play, case_url),
        "can_edit": can_edit,
        **extra,
    }
    if can_edit:
        context["upload_fields"] = _fields_html(
            version, "live-upload", upload_form, PointsUploadForm
        )
    if can_edit and version is not None:
        context["event_fields"] = _fields_html(
            version,
            "live-event",
            event_form,
            lambda: _event_form(systems, options=live_system_options(version)),
        )
    return context


def _fields_html(
    version: FrameworkVersion | None, kind: str, refused: Form | None, blank: Callable[[], Form]
) -> SafeString:
    """What includes/form_fields.html prints of a form: the `refused` one with its errors, else
    the `blank` one, which prints the same for everyone on the live page of a version (the AI
    systems are the event form's choices): printed once per version, under its hash (its fields
    were a third of the page's template time, and the event form's hundreds of choices a
    millisecond to set up)."""

    def printed(form: Form) -> SafeString:
        return SafeString(render_to_string("includes/form_fields.html", {"form": form}))

    if refused is not None or version is None:
        return printed(refused or blank())
    return caching.for_hashes(kind, [version.sha256], lambda: printed(blank()))


def _cases_in_play(
    systems: list[tuple[str, str]],
    by_system: dict[str, list[EscalationCase]],
    case_url: Callable[[object], str],
) -> list[CaseInPlay]:
    """Every case in play, oldest first, with the live page its system is on (`case_url`: its
    address from its public id)."""
    where = {
        key: (name, index // LIVE_SYSTEMS_PAGE + 1) for index, (key, name) in enumerate(systems)
    }
    found = [
        CaseInPlay(case, case_url(case.public_id), *where.get(key, (key, 1)))
        for key, system_cases in by_system.items()
        for case in system_cases
    ]
    return sorted(found, key=lambda item: (item.case.opened_at, item.case.pk))


@require_GET
def live(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    context = _live_context(engagement, request.GET.get("page"))
    return render(request, "monitoring/live.html", context)


@require_GET
def live_windows(
    request: SignedInRequest, slug: str, kind: str, ai_system: str, key: str
) -> HttpResponse:
    """One bound's or drift trigger's recent windows as a table, the text alternative of its
    chart on the live page: a page of its own, or (htmx) the table alone, shown in place of the
    chart's link."""
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    version = version_in_force(engagement)
    found = series_panel(version, kind, ai_system, key) if version is not None else None
    if version is None or found is None:
        raise Http404("No such bound or drift trigger in the framework in force.")
    system, panel, windows = found
    template = "monitoring/live_windows.html"
    context: dict[str, Any] = {"table": window_table_html(panel, windows)}
    if request.htmx:
        return render(request, f"{template}#windows-table", context)
    systems = [system_key for system_key, _ in live_systems(version)]
    context |= {
        "engagement": engagement,
        "version": version,
        "system": system,
        "panel": panel,
        "live_page": systems.index(ai_system) // LIVE_SYSTEMS_PAGE + 1,
    }
    return render(request, template, context)


def _event_form(
    systems: list[tuple[str, str]], data: Any = None, options: list[CachedOption] | None = None
) -> ExternalEventForm:
    return ExternalEventForm(data, systems=systems, options=options, prefix="event")


@require_POST
def record_external_event(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    version = version_in_force(engagement)
    if version is None:
        messages.error(request, "No version is signed off: there is no trigger to review against.")
        return redirect("live", engagement.slug)
    form = _event_form(live_systems(version), request.POST)
    if not form.is_valid():
        context = _live_context(engagement, event_form=form)
        return render(request, "monitoring/live.html", context, status=422)
    data = form.cleaned_data
    case = cases.record_external_event(
        engagement,
        version,
        request.user,
        event=data["event"],
        event_label=ExternalEvent(data["event"]).label,
        ai_system=data["ai_system"],
        text=data["text"],
    )
    messages.success(request, "The event is recorded: its review case is open.")
    return redirect("case_detail", engagement.slug, case.public_id)


@require_POST
def upload_points(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = PointsUploadForm(request.POST, request.FILES)
    refused: ReadPoints | None = None
    if form.is_valid():
        try:
            checked = check(
                read_csv(form.cleaned_data["file"]), Catalogue.for_engagement(engagement)
            )
        except UnreadableBody as problem:
            form.add_error("file", str(problem))
        else:
            if not checked.refused:
                stored = store(engagement, checked.points)
                messages.success(
                    request,
                    f"Stored {stored.new + stored.updated} points "
                    f"({stored.received - stored.new - stored.updated} unchanged).",
                )
                return redirect("live", engagement.slug)
            refused = checked
    context = _live_context(engagement, upload_form=form, refused=refused)
    return render(request, "monitoring/live.html", context, status=422)


@require_POST
def reevaluate(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    version = version_in_force(engagement)
    if version is None:
        messages.error(request, "No version is signed off: there is nothing to evaluate against.")
    else:
        windows = evaluate_all(engagement, version)
        messages.success(request, f"Evaluated {windows} windows against {version.label}.")
    return redirect("live", engagement.slug)


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        token, secret = ApiToken.issue(engagement, form.cleaned_data["name"], request.user)
        record_activity(
            engagement,
            request.user,
            AuditVerb.API_TOKEN_CREATED,
            f"Created the API token “{token.name}” ({token.prefix}…)",
            anchor=f"api-tokens/{token.public_id}",
        )
        form = ApiTokenForm()
    context = {
        "engagement": engagement,
        "tokens": ApiToken.objects.filter(engagement=engagement).select_related("created_by"),
        "form": form,
        "secret": secret,
    }
    return render(request, "monitoring/tokens.html", context, status=422 if form.errors else 200)


@require_POST
def revoke_api_token(request: HttpRequest, slug: str, token_id: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    token = get_object_or_404(ApiToken, engagement=engagement, public_id=token_id)
    if token.revoked_at is None:
        token.revoke()
        record_activity(
            engagement,
            request.user,
            AuditVerb.API_TOKEN_REVOKED,
            f"Revoked the API token “{token.name}” ({token.prefix}…)",
            anchor=f"api-tokens/{token.public_id}",
        )
        messages.success(request, f"The token “{token.name}” is revoked: it no longer writes.")
    return redirect("api_tokens", engagement.slug)


def _api_error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _token_engagement(request: HttpRequest, slug: str) -> Engagement | JsonResponse:
    """The engagement the request's bearer token writes to, if it is `slug`'s; else the error."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = ApiToken.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _api_error(401, "Send a valid API token: Authorization: Bearer <token>.")
    if token.engagement.slug != slug:
        # As for a non-member on the pages: another engagement's existence is not revealed.
        return _api_error(404, "No such engagement for this token.")
    return token.engagement


def _stored_or_refused(
    engagement: Engagement, read: ReadPoints, catalogue: Catalogue
) -> JsonResponse:
    """All or nothing: a batch with a refused point stores none, so the sender fixes the rows and
    sends the batch again (intake is idempotent)."""
    checked = check(read, catalogue)
    if checked.refused:
        return _api_error(
            400,
            f"{len(checked.refused)} of the points were refused; nothing was stored.",
            stored=0,
            refused=[refusal.as_json() for refusal in checked.refused],
        )
    return JsonResponse(store(engagement, checked.points).as_json())


@csrf_exempt
@login_not_required
@require_POST
def api_metrics(request: HttpRequest, slug: str) -> JsonResponse:
    engagement = _token_engagement(request, slug)
    if isinstance(engagement, JsonResponse):
        return engagement
    content_type = request.content_type or ""
    try:
        if content_type == "text/csv":
            read = read_csv(request.body)
        elif content_type in ("application/json", ""):
            read = read_json(request.body)
        else:
            return _api_error(415, "Send application/json or text/csv.")
    except UnreadableBody as problem:
        return _api_error(400, str(problem))
    return _stored_or_refused(engagement, read, Catalogue.for_engagement(engagement))


@csrf_exempt
@login_not_required
@require_POST
def api_otlp_metrics(request: HttpRequest, slug: str) -> JsonResponse:
    """OTLP/HTTP JSON. Points the framework does not know are rejected one by one, as OTLP's
    partial success says, and the rest stored: an exporter cannot fix and resend a batch."""
    engagement = _token_engagement(request, slug)
    if isinstance(engagement, JsonResponse):
        return engagement
    if request.content_type != "application/json":
        return _api_error(415, "Send OTLP as JSON (application/json); protobuf is not read.")
    catalogue = Catalogue.for_engagement(engagement)
    try:
        read, skipped = read_otlp(request.body, catalogue)
    except UnreadableBody as problem:
        return _api_error(400, str(problem))
    checked = check(read, catalogue)
    answer = store(engagement, checked.points).as_json()
    answer["refused"] = [refusal.as_json() for refusal in checked.refused]
    answer["skipped_metrics"] = skipped
    if checked.refused:
        answer["partialSuccess"] = {
            "rejectedDataPoints": len({refusal.row for refusal in checked.refused}),
            "errorMessage": "; ".join(f"row {r.row}: {r.reason}" for r in checked.refused[:5]),
        }
    return JsonResponse(answer)


# Escalation cases.


def _case(engagement: Engagement, case_id: str) -> EscalationCase:
    case = get_object_or_404(
        EscalationCase.objects.select_related("version"), engagement=engagement, public_id=case_id
    )
    case.engagement = engagement  # keep the membership the permission check attached
    return case


def _case_context(
    request: HttpRequest, engagement: Engagement, case: EscalationCase, **forms: Any
) -> dict[str, Any]:
    document = upgrade_document(case.version.document)
    refusal = cases.may_decide(case, engagement.membership)
    verdict = cases.sunset_verdict(case)
    allowed = {cases.Verdict.NO_RULE, cases.Verdict.IMPROVED, cases.Verdict.NOT_IMPROVED}
    ending = not refusal and case.status == CaseStatus.APPROVED and verdict.verdict in allowed
    timeline = [
        (
            event,
            cases.level_label(document, event.from_level_key),
            cases.level_label(document, event.to_level_key),
        )
        for event in case.events.all()
    ]
    return {
        "engagement": engagement,
        "case": case,
        "from_level": cases.level_label(document, case.from_level_key),
        "failure_modes": cases.failure_modes_detected(document, case.bound_key),
        "evidence": list(case.evidence.all()),
        "timeline": timeline,
        "verdict": verdict,
        "approvals_given": cases.approvals_given(case),
        "refusal": refusal,
        "may_decide": not refusal and case.status == CaseStatus.OPEN,
        "may_close": ending and verdict.verdict != cases.Verdict.NOT_IMPROVED,
        "may_roll_back": ending and verdict.verdict != cases.Verdict.IMPROVED,
        "approve_form": forms.get("approve_form")
        or CaseApproveForm(prefix="approve", request=request),
        "decline_form": forms.get("decline_form") or _decision_form("decline", request),
        "close_form": forms.get("close_form") or _decision_form("close", request),
        "roll_back_form": forms.get("roll_back_form") or _decision_form("roll_back", request),
    }


def _decision_form(prefix: str, request: HttpRequest, *, bound: bool = False) -> CaseDecisionForm:
    return CaseDecisionForm(request.POST if bound else None, prefix=prefix, request=request)


@require_GET
def case_detail(request: HttpRequest, slug: str, case_id: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    case = _case(engagement, case_id)
    return render(request, "monitoring/case.html", _case_context(request, engagement, case))


def _decide(
    request: HttpRequest,
    slug: str,
    case_id: str,
    form_name: str,
    decide: Callable[[EscalationCase, str, Authentication], object],
) -> HttpResponse:
    """One decision on a case: the approver's permission, step-up, the decision, its message."""
    engagement = get_engagement_for(request.user, slug, Capability.APPROVE)
    case = _case(engagement, case_id)
    if refusal := cases.may_decide(case, engagement.membership):
        raise PermissionDenied(refusal)
    prefix = form_name.removesuffix("_form")
    form: CaseApproveForm | CaseDecisionForm = (
        CaseApproveForm(request.POST, prefix=prefix, request=request)
        if prefix == "approve"
        else _decision_form(prefix, request, bound=True)
    )
    if not form.is_valid() or form.authentication is None:
        context = _case_context(request, engagement, case, **{form_name: form})
        return render(request, "monitoring/case.html", context, status=422)
    try:
        decide(case, form.cleaned_data["reason"], form.authentication)
    except (cases.CaseRefusedError, ValidationError) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    else:
        messages.success(request, f"Recorded: the case is {case.get_status_display().lower()}.")
    return redirect("case_detail", engagement.slug, case.public_id)


# Each decision on a case: its form's prefix and what records it (monitoring.cases).
DECISIONS: dict[str, Callable[..., object]] = {
    "approve": cases.approve_case,
    "decline": cases.decline_case,
    "close": cases.close_case,
    "roll_back": cases.roll_back_case,
}


@require_POST
def case_decision(request: HttpRequest, slug: str, case_id: str, decision: str) -> HttpResponse:
    record = DECISIONS[decision]
    return _decide(
        request,
        slug,
        case_id,
        f"{decision}_form",
        lambda case, reason, auth: record(case, request.user, reason, authentication=auth),
    )


def case_json(case: EscalationCase) -> dict[str, Any]:
    """A case as the cases API lists it."""
    return {
        "id": str(case.public_id),
        "ai_system": case.ai_system,
        "bound": case.bound_key or None,
        "kind": case.kind,
        "trigger": case.trigger_key or None,
        "status": case.status,
        "from_level": case.from_level_key or None,
        "proposed_level": case.proposed_level_key or None,
        "proposed_level_name": case.proposed_level_name or None,
        "skip_approval": case.skip_approval or None,
        "owner": case.owner or None,
        "approval_rule": case.approval_rule or None,
        "cost_ceiling": case.cost_ceiling or None,
        "cost_estimate": case.cost_estimate or None,
        "opened_at": case.opened_at.isoformat(),
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
        "sunset_on": case.sunset_on.isoformat() if case.sunset_on else None,
        "evidence": [
            {
                "window_start": window.window_start.isoformat(),
                "window_hours": window.window_hours,
                "value": window.value,
                "sample_size": window.sample_size,
                "outcome": window.outcome,
                "immediate_breach": window.immediate_breach,
            }
            for window in case.evidence.all()
        ],
    }


@csrf_exempt
@login_not_required
@require_GET
def api_cases(request: HttpRequest, slug: str) -> JsonResponse:
    """The engagement's escalation cases, newest first, each with its evidence windows,
    API_CASES_PAGE to a page (`?page=2`), with the count and the next page's address."""
    engagement = _token_engagement(request, slug)
    if isinstance(engagement, JsonResponse):
        return engagement
    found = EscalationCase.objects.filter(engagement=engagement).prefetch_related("evidence")
    paginator = Paginator(found, API_CASES_PAGE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return _api_error(
            400, f"No such page: pages run from 1 to {paginator.num_pages}.", page=None
        )
    next_url = (
        request.build_absolute_uri(f"{request.path}?page={page.next_page_number()}")
        if page.has_next()
        else None
    )
    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "next": next_url,
            "cases": [case_json(case) for case in page.object_list],
        }
    )


# Cases in one answer of the cases API.
API_CASES_PAGE = 100
