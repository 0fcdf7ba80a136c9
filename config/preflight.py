"""Fail fast, in one line, on configuration that would otherwise end in a traceback."""

from __future__ import annotations

import shutil
import sys


def check_environment() -> None:
    """Exit with one line naming the fix when graphviz or the database is missing."""
    from django.conf import settings
    from django.db import OperationalError, connection

    if shutil.which("dot") is None:
        sys.exit(
            "graphviz's `dot` is not installed: run `make system-packages` (apt-get install graphviz)."
        )
    try:
        connection.ensure_connection()
    except OperationalError as error:
        database = settings.DATABASES["default"]
        where = database["HOST"] or "local socket"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        sys.exit(
            f"Cannot reach PostgreSQL at {where} (database {database['NAME']!r}): {reason}. "
            "Fix DATABASE_URL, or unset it to use the embedded server."
        )
