"""Configuration that would otherwise end in a traceback, as Django system checks.

`manage.py check` (and every command that runs the checks, runserver included) reports them; manage.py
and the WSGI entry point run them first and stop with the first message, in one line naming the fix.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

from django.core import checks

ENVIRONMENT = "environment"


@checks.register(ENVIRONMENT)
def check_graphviz(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if shutil.which("dot") is not None:
        return []
    return [
        checks.Error(
            "graphviz's `dot` is not installed: run `make system-packages` "
            "(apt-get install graphviz).",
            id="config.E001",
        )
    ]


@checks.register(ENVIRONMENT)
def check_database(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.conf import settings
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as error:
        database = settings.DATABASES["default"]
        where = database["HOST"] or "local socket"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [
            checks.Error(
                f"Cannot reach PostgreSQL at {where} (database {database['NAME']!r}): {reason}. "
                "Fix DATABASE_URL, or unset it to use the embedded server.",
                id="config.E002",
            )
        ]
    return []


def check_environment() -> None:
    """Exit with the first environment error's one line; gunicorn and shells run no system checks."""
    errors = checks.run_checks(tags=[ENVIRONMENT])
    if errors:
        sys.exit(errors[0].msg)
