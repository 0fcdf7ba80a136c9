"""The server-error page: a database outage gets a clear 503 instead of a generic 500."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
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
