"""Request checks that hold for every URL, before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string


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
