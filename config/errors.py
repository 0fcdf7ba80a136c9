"""The error pages: a database outage gets a clear 503 instead of a generic 500, and a request
too large to read a clear 413 instead of a bare 400."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500. Called for any unhandled error, including one raised in middleware
    (the session or user lookup is usually where a lost database shows first)."""
    if database_is_down():
        logger.error("Database unavailable while serving %s", request.path)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "10"
        return response
    return HttpResponse(render_to_string("500.html"), status=500)


def database_is_down() -> bool:
    """True when the default database cannot answer a trivial query right now. The broken
    connection is closed, so the next request opens a fresh one once the server is back."""
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        connection.close()
        return True
    return False


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's handler400, for refused requests Django cannot even read (the body too large,
    too many fields) and other suspicious ones: say what happened, and that nothing was saved."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        too_big = (
            f"What you sent is larger than this page accepts (about {limit} MB). "
            "Nothing was saved: send less, or a smaller file."
        )
        context = {"reason": too_big, "too_big": True}
        return HttpResponse(render_to_string("400.html", context), status=413)
    reason = None
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        reason = "The form sent more fields or files than any page here has. Nothing was saved."
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": reason}))
