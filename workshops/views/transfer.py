"""Starting an engagement from a framework document uploaded in the browser (the download is an
artifact: workshops/views/artifacts.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config.middleware import SignedInRequest
from escalation.document_reader import DocumentError
from workshops.imports import ImportEngagementForm, import_engagement, in_plain_words
from workshops.models import OPEN_ENGAGEMENT


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
            form.add_error("file", in_plain_words(error.problems))
        else:
            messages.success(request, f"Created “{engagement.title}” from the file.")
            return redirect("dashboard", engagement.slug)
    status = 422 if request.method == "POST" else 200
    return render(request, "workshops/import.html", {"form": form}, status=status)
