"""Request checks that hold for every URL, before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from escalation import caching

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    """The request a view receives unless it is marked @login_not_required: the middleware
    above has made sure its user is signed in (LoginRequiredMiddleware) and attached `htmx`
    (django-htmx). A type for annotations only; at run time it is Django's HttpRequest."""

    user: User
    htmx: HtmxDetails


def refuse_nul_characters(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A NUL character in the path or the query string is refused with a 400. No address of ours
    carries one, and PostgreSQL cannot compare text with it: a username, token or filter holding
    one would otherwise reach a query and fail as a server error. Form fields are the forms' job
    (Django's CharField refuses NUL with a message beside the field)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        query_text = "".join(key + "".join(values) for key, values in request.GET.lists())
        if "\x00" in request.path or "\x00" in query_text:
            reason = "The address contains a NUL character, which no page here accepts."
            return HttpResponseBadRequest(render_to_string("400.html", {"reason": reason}))
        return get_response(request)

    return middleware


def refuse_oversized_bodies(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A body larger than any page takes (the framework import's 2 MB file and a few fields) is
    refused by its declared length before anything reads it. Django caps form fields
    (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams an upload of any size to a temporary file first,
    and the CSRF check reads the body before a view could refuse it. config.errors answers 413."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 64 * 1024

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django itself treats a malformed length as no body
        if length > limit:
            raise RequestDataTooBig(f"Request body of {length} bytes refused (limit {limit}).")
        return get_response(request)

    return middleware


def read_framework_revisions_once(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A GET or HEAD writes no framework content, so it reads each framework's content revision
    once (escalation.caching.revisions_read_once), not once per part of the page it takes from
    the cache: a step page asked three times. Other methods write, and read it at each use."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return get_response(request)
        with caching.revisions_read_once():
            return get_response(request)

    return middleware
