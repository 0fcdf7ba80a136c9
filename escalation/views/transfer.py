"""The portable format in the browser: download a framework document, upload one to start a new
engagement from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from config.middleware import SignedInRequest
from escalation.document import DocumentError, build_document, export_text
from workshops.imports import ImportEngagementForm, import_engagement
from workshops.models import OPEN_ENGAGEMENT, Capability, get_engagement_for


@require_GET
def framework_json(request: HttpRequest, slug: str) -> HttpResponse:
    # The working draft as a file: like every draft export, not for observers.
    engagement = get_engagement_for(request.user, slug, Capability.COMMENT)
    response = HttpResponse(
        export_text(build_document(engagement.framework)),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{engagement.slug}-framework.json"'
    return response


def _may_import(user: User) -> bool:
    """Starting an engagement from a file is opening one: consultants only."""
    return user.has_perm(OPEN_ENGAGEMENT)


@require_http_methods(["GET", "POST"])
def import_framework(request: SignedInRequest) -> HttpResponse:
    if not _may_import(request.user):
        raise PermissionDenied("Only facilitators can start an engagement from a file.")
    form = ImportEngagementForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = import_engagement(
                form.document,
                slug=form.cleaned_data["slug"],
                client_organisation=form.cleaned_data["client_organisation"],
                title=form.cleaned_data["title"],
                start_date=form.cleaned_data["start_date"],
                facilitator=request.user,
            )
        except DocumentError as error:
            form.add_error("file", error.problems)
        else:
            messages.success(request, f"Created “{engagement.title}” from the file.")
            return redirect("dashboard", engagement.slug)
    status = 422 if request.method == "POST" else 200
    return render(request, "escalation/import.html", {"form": form}, status=status)
