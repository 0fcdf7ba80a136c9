"""The live pages (members) and the metric API (a bearer token of the engagement).

The API views are the only CSRF-exempt views: they take no cookie, only `Authorization: Bearer`,
so a forged cross-site request has nothing to ride on."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitoring.forms import ApiTokenForm, PointsUploadForm
from monitoring.intake import (
    Catalogue,
    ReadPoints,
    UnreadableBody,
    check,
    read_csv,
    read_json,
    store,
)
from monitoring.live import system_panels
from monitoring.models import ApiToken, Evaluation, MetricPoint
from monitoring.otlp import read_otlp
from monitoring.results import evaluate_all, version_in_force
from workshops.audit import AuditVerb, record_activity
from workshops.models import Capability, Engagement, get_engagement_for


def _live_context(engagement: Engagement, **extra: Any) -> dict[str, Any]:
    version = version_in_force(engagement)
    evaluated = (
        version is not None
        and Evaluation.objects.filter(engagement=engagement, version=version).exists()
    )
    return {
        "engagement": engagement,
        "version": version,
        "evaluated": evaluated,
        "has_points": MetricPoint.objects.filter(engagement=engagement).exists(),
        "panels": system_panels(engagement, version) if version is not None else [],
        "can_edit": engagement.membership.can(Capability.EDIT),
        "upload_form": PointsUploadForm(),
        **extra,
    }


@require_GET
def live(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    return render(request, "monitoring/live.html", _live_context(engagement))


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
